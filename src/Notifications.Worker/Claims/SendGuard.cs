using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Notifications.Core.Store;

namespace Notifications.Worker.Claims;

/// <summary>
/// The worker's use of the send claims: claim before sending, keep the claim alive while the send lasts,
/// mark it sent, or give it up. When the store is down the worker sends anyway (at least once) and says so.
/// </summary>
public sealed class SendGuard(ISendClaims claims, SentLedger ledger, IOptions<StoreOptions> options, TimeProvider clock, ILogger<SendGuard> logger)
{
    private static readonly TimeSpan ClaimPollInterval = TimeSpan.FromMilliseconds(200);
    private readonly TimeSpan _lease = options.Value.SendLease;
    // The sends in flight, by their hold (not by job id: a redelivered copy may wait on the same id meanwhile).
    private readonly System.Collections.Concurrent.ConcurrentDictionary<ClaimInFlight, byte> _inFlight = new();

    /// <summary>
    /// Claims the send. While another worker holds the claim it waits: a claim is taken over only once its holder stopped
    /// renewing it and its lease ran out (the store decides that), never while the holder is still sending. A job this
    /// process saw sent is <see cref="SendClaim.AlreadySent"/> even when its marker never reached the store.
    /// Without a store: <see cref="SendClaim.Acquired"/>.
    /// </summary>
    public async Task<SendClaim> ClaimAsync(string jobId, CancellationToken cancellationToken)
    {
        if (ledger.Contains(jobId))
            return SendClaim.AlreadySent;
        try
        {
            while (true)
            {
                var claim = await claims.TryStartSendAsync(jobId, cancellationToken);
                if (claim != SendClaim.InProgress)
                    return ledger.Contains(jobId) ? SendClaim.AlreadySent : claim;
                await Task.Delay(ClaimPollInterval, clock, cancellationToken);
            }
        }
        catch (Exception ex) when (StoreRegistration.IsStoreFailure(ex))
        {
            logger.LogWarning("Job store unavailable ({Reason}); sending job {JobId} without the duplicate check", ex.Message, jobId);
            return SendClaim.Acquired;
        }
    }

    /// <summary>Whether this job was accepted by the relay before (this process's ledger, else the store's status).</summary>
    public async Task<bool> WasSentAsync(string jobId, IJobStatuses statuses)
    {
        if (ledger.Contains(jobId))
            return true;
        try
        {
            return (await statuses.GetStatusAsync(jobId, CancellationToken.None))?.Status == JobStatus.Sent;
        }
        catch (Exception ex) when (StoreRegistration.IsStoreFailure(ex))
        {
            logger.LogWarning("Job store unavailable ({Reason}); cannot tell whether job {JobId} was sent before", ex.Message, jobId);
            return false;
        }
    }

    /// <summary>
    /// Keeps the claim renewed until disposed, so a send slower than the lease keeps it. One loop
    /// (<see cref="RenewWhileSendingAsync"/>) renews every claim in flight each third of the lease: no timer per send.
    /// </summary>
    public ClaimInFlight KeepClaim(string jobId)
    {
        var held = new ClaimInFlight(this, jobId);
        _inFlight[held] = 0;
        return held;
    }

    /// <summary>Renews the claims of the sends in flight every third of <c>Store:SendLease</c>, until stopped.</summary>
    public async Task RenewWhileSendingAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(_lease / 3, clock);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
                foreach (var held in _inFlight.Keys)
                    await RenewAsync(held.JobId, stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    /// <summary>
    /// The relay accepted the job: this process remembers it at once (that cannot fail), then the store gets the sent
    /// marker and the job's <c>sent</c> status in one call. Never throws: false when the store did not take it.
    /// </summary>
    public async Task<bool> MarkSentAsync(string jobId, JobStatus sent)
    {
        ledger.Add(jobId);
        try
        {
            await claims.MarkSentAsync(jobId, sent, CancellationToken.None);
            return true;
        }
        catch (Exception ex) when (StoreRegistration.IsStoreFailure(ex))
        {
            logger.LogWarning("Job store unavailable ({Reason}); job {JobId} is sent, its sent marker is written later", ex.Message, jobId);
            return false;
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "Writing the sent marker of job {JobId} failed; the job is sent, the marker is written later", jobId);
            return false;
        }
    }

    public async Task ReleaseAsync(string jobId)
    {
        try
        {
            await claims.ReleaseSendAsync(jobId, CancellationToken.None);
        }
        catch (Exception ex) when (StoreRegistration.IsStoreFailure(ex))
        {
            logger.LogDebug("Could not release the send claim of job {JobId} ({Reason}); it lapses by itself", jobId, ex.Message);
        }
    }

    private async Task RenewAsync(string jobId, CancellationToken cancellationToken)
    {
        try
        {
            if (!await claims.RenewSendAsync(jobId, cancellationToken))
                logger.LogWarning("The send claim of job {JobId} lapsed before it could be renewed; another worker may send it too", jobId);
        }
        catch (Exception ex) when (StoreRegistration.IsStoreFailure(ex))
        {
            logger.LogWarning("Could not renew the send claim of job {JobId} ({Reason}); trying again", jobId, ex.Message);
        }
    }

    /// <summary>One send's hold on its claim; disposing it (the send is over) stops the renewals.</summary>
    public sealed class ClaimInFlight(SendGuard guard, string jobId) : IDisposable
    {
        public string JobId => jobId;

        public void Dispose() => guard._inFlight.TryRemove(this, out _);
    }
}
