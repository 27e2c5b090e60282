namespace Notifications.Core.Store;

/// <summary>
/// The worker's guard against mailing a job twice: a claim while it sends (a lease, renewed while the
/// send lasts) and a sent marker once the relay accepted it.
/// </summary>
public interface ISendClaims
{
    /// <summary>Claims the right to send a job, for <c>Store:SendLease</c>.</summary>
    Task<SendClaim> TryStartSendAsync(string jobId, CancellationToken cancellationToken);

    /// <summary>Extends this worker's claim by another <c>Store:SendLease</c>; false when the claim is no longer its own.</summary>
    Task<bool> RenewSendAsync(string jobId, CancellationToken cancellationToken);

    /// <summary>The relay accepted the job: no one sends it again; <paramref name="sent"/> becomes its status in the same store call.</summary>
    Task MarkSentAsync(string jobId, JobStatus sent, CancellationToken cancellationToken);

    /// <summary>The send failed: give the claim up so the next delivery may try.</summary>
    Task ReleaseSendAsync(string jobId, CancellationToken cancellationToken);
}
