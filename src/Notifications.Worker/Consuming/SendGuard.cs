using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Notifications.Core.Store;

namespace Notifications.Worker.Consuming;

/// <summary>
/// The worker's use of the send claims: claim before sending, keep the claim alive while the send lasts,
/// mark it sent, or give it up. When the store is down the worker sends anyway (at least once) and says so.
/// </summary>
public sealed class SendGuard(ISendClaims claims, IOptions<StoreOptions> options, TimeProvider clock, ILogger<SendGuard> logger)
{
    private static readonly TimeSpan ClaimPollInterval = TimeSpan.FromMilliseconds(200);
    private readonly TimeSpan _lease = options.Value.SendLease;

    /// <summary>Claims the send; waits while another worker holds it (at most one lease). Without a store: <see cref="SendClaim.Acquired"/>.</summary>
    public async Task<SendClaim> ClaimAsync(string jobId, CancellationToken cancellationToken)
    {
        var deadline = clock.GetUtcNow() + _lease + TimeSpan.FromSeconds(1);
        try
        {
            while (true)
            {
                var claim = await claims.TryStartSendAsync(jobId, cancellationToken);
                if (claim != SendClaim.InProgress || clock.GetUtcNow() > deadline)
                    return claim == SendClaim.InProgress ? SendClaim.Acquired : claim;
                await Task.Delay(ClaimPollInterval, clock, cancellationToken);
            }
        }
        catch (Exception ex) when (StoreRegistration.IsStoreFailure(ex))
        {
            logger.LogWarning("Job store unavailable ({Reason}); sending job {JobId} without the duplicate check", ex.Message, jobId);
            return SendClaim.Acquired;
        }
    }

    /// <summary>Renews the claim every third of the lease until disposed, so a send slower than the lease keeps it.</summary>
    public LeaseRenewal KeepClaim(string jobId) => new(this, jobId, _lease / 3, clock);

    public async Task MarkSentAsync(string jobId)
    {
        try
        {
            await claims.MarkSentAsync(jobId, CancellationToken.None);
        }
        catch (Exception ex) when (StoreRegistration.IsStoreFailure(ex))
        {
            logger.LogWarning("Job store unavailable ({Reason}); job {JobId} is sent but a redelivery could send it again", ex.Message, jobId);
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

    internal async Task RenewAsync(string jobId, CancellationToken cancellationToken)
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

    /// <summary>The renewal loop of one send; disposing it stops the loop and waits for it.</summary>
    public sealed class LeaseRenewal : IAsyncDisposable
    {
        private readonly CancellationTokenSource _done = new();
        private readonly Task _loop;

        internal LeaseRenewal(SendGuard guard, string jobId, TimeSpan interval, TimeProvider clock) =>
            _loop = RenewUntilDoneAsync(guard, jobId, interval, clock, _done.Token);

        private static async Task RenewUntilDoneAsync(SendGuard guard, string jobId, TimeSpan interval, TimeProvider clock,
            CancellationToken done)
        {
            using var timer = new PeriodicTimer(interval, clock);
            try
            {
                while (await timer.WaitForNextTickAsync(done))
                    await guard.RenewAsync(jobId, done);
            }
            catch (OperationCanceledException) when (done.IsCancellationRequested)
            {
                // The send is over.
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _done.CancelAsync();
            await _loop;
            _done.Dispose();
        }
    }
}
