using Microsoft.Extensions.Options;

namespace Notifications.Worker.Sending;

/// <summary>
/// The clock of a relay outage, shared by every delivery in flight: how long the worker has been
/// holding jobs for a relay that is down, and whether it is time to give them back and stop consuming.
/// </summary>
public sealed class RelayOutage(TimeProvider clock, IOptions<SmtpOptions> options)
{
    private readonly Lock _lock = new();
    private readonly long _holdMs = (long)options.Value.OutageHold.TotalMilliseconds;
    private long _startedAt; // unix ms; 0 = no outage

    public bool IsPaused { get; private set; }

    /// <summary><c>Smtp:OutageHold</c>: the longest a job is held in the worker for the relay's sake.</summary>
    public TimeSpan Hold => TimeSpan.FromMilliseconds(_holdMs);

    /// <summary>Called while a job waits for the relay; true once the outage has lasted longer than <c>Smtp:OutageHold</c>.</summary>
    public bool HoldExpired()
    {
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        Interlocked.CompareExchange(ref _startedAt, now, 0);
        return now - Interlocked.Read(ref _startedAt) > _holdMs;
    }

    public void Ended()
    {
        Interlocked.Exchange(ref _startedAt, 0);
        IsPaused = false;
    }

    /// <summary>True for the caller that flips it to paused, false if someone already did.</summary>
    public bool TryPause()
    {
        lock (_lock)
        {
            if (IsPaused)
                return false;
            IsPaused = true;
            return true;
        }
    }
}
