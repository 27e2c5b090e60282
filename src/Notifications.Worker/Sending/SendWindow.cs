using Microsoft.Extensions.Logging;
using Notifications.Core.Store;

namespace Notifications.Worker.Sending;

/// <summary>
/// <c>Smtp:MaxPerSecond</c> as the relay counts it: no one-second window at the relay holds more than the limit. A send
/// holds one of the limit's permits from before it starts until one second after it ended; a mail reaches the relay
/// between the two, so any one-second window there sees only sends that held a permit at once. With a shared budget
/// (Redis) the permits are the deployment's, on the Redis server's clock; if Redis does not answer, this worker keeps
/// the limit on its own meanwhile.
/// </summary>
public sealed class SendWindow(int limit, TimeProvider clock, IRateBudget budget, ILogger logger)
{
    private const string BudgetName = "relay-window";
    /// <summary>How long a shared permit of a send that never said it ended (its worker died) stays taken.</summary>
    private static readonly TimeSpan InFlightLease = TimeSpan.FromSeconds(30);
    /// <summary>A second, and a little: clocks of a few milliseconds' grain (timers, the relay's stamps) must not let one more in.</summary>
    private static readonly TimeSpan Hold = TimeSpan.FromMilliseconds(1_005);
    private static readonly TimeSpan LongestSharedWait = TimeSpan.FromMilliseconds(100);
    private readonly SemaphoreSlim _permits = new(limit, limit);

    public int Limit => limit;

    /// <summary>Waits for a permit; dispose the answer when the send ended (sent, refused or failed).</summary>
    public async ValueTask<Permit> EnterAsync(CancellationToken cancellationToken)
    {
        // This worker's own permits first: they also bound what it asks the shared budget for.
        await _permits.WaitAsync(cancellationToken);
        if (!budget.IsShared)
            return new Permit(this, null);
        var holder = Guid.NewGuid().ToString("N");
        try
        {
            while (await budget.TryHoldAsync(BudgetName, holder, limit, InFlightLease, cancellationToken) is { } wait)
                await Task.Delay(wait < LongestSharedWait ? wait : LongestSharedWait, clock, cancellationToken);
            return new Permit(this, holder);
        }
        catch (Exception ex) when (StoreRegistration.IsStoreFailure(ex))
        {
            logger.LogWarning("The shared send window in Redis did not answer ({Reason}); this worker keeps Smtp:MaxPerSecond on its own meanwhile",
                ex.Message);
            return new Permit(this, null);
        }
        catch
        {
            _permits.Release();
            throw;
        }
    }

    private async Task LeaveAsync(string? holder)
    {
        if (holder is not null)
        {
            try
            {
                await budget.ReleaseHoldAsync(BudgetName, holder, Hold, CancellationToken.None);
            }
            catch (Exception ex) when (StoreRegistration.IsStoreFailure(ex))
            {
                logger.LogDebug("Could not mark a shared send permit ended ({Reason}); it lapses after {Lease}", ex.Message, InFlightLease);
            }
        }
        // Given back a second after the send ended, in the background: the send's caller does not wait for it.
        _ = ReleaseAfterHoldAsync(clock.GetTimestamp());
    }

    /// <summary>A timer may fire a few milliseconds early (a coarse clock): the hold is measured, not trusted to the timer.</summary>
    private async Task ReleaseAfterHoldAsync(long ended)
    {
        for (var left = Hold; left > TimeSpan.Zero; left = Hold - clock.GetElapsedTime(ended))
            await Task.Delay(left, clock);
        _permits.Release();
    }

    /// <summary>One send's permit: disposing it says the send ended.</summary>
    public sealed class Permit(SendWindow window, string? holder) : IAsyncDisposable
    {
        private int _left;

        public ValueTask DisposeAsync() =>
            Interlocked.Exchange(ref _left, 1) == 0 ? new ValueTask(window.LeaveAsync(holder)) : ValueTask.CompletedTask;
    }
}
