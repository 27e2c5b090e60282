namespace Notifications.Core.Store;

/// <summary>
/// The one store of the service: idempotency keys (API), sent markers that keep a redelivered job
/// from being mailed twice (worker), and job statuses. SQLite for one machine, Redis for several.
/// </summary>
public interface IJobStore
{
    /// <summary>Records the request behind an idempotency key; false when the key was used for a different request.</summary>
    Task<bool> TryRememberIdempotencyKeyAsync(string key, string requestHash, CancellationToken cancellationToken);

    /// <summary>Claims the right to send a job, for <c>Store:SendLease</c>.</summary>
    Task<SendClaim> TryStartSendAsync(string jobId, CancellationToken cancellationToken);

    /// <summary>The relay accepted the job: no one sends it again.</summary>
    Task MarkSentAsync(string jobId, CancellationToken cancellationToken);

    /// <summary>The send failed: give the claim up so the next delivery may try.</summary>
    Task ReleaseSendAsync(string jobId, CancellationToken cancellationToken);

    /// <summary>Records a status unless a later one is already recorded.</summary>
    Task SetStatusAsync(JobStatus status, CancellationToken cancellationToken);

    Task<JobStatus?> GetStatusAsync(string jobId, CancellationToken cancellationToken);
}
