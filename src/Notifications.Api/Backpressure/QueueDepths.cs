namespace Notifications.Api.Backpressure;

/// <summary>
/// The last depth read of each queue and when it was read. A reading older than <c>Api:MaxDepthAge</c> is not used to
/// refuse jobs: when the broker stops answering the samples, one stale high reading would otherwise answer 429 for
/// ever, while the broker's own limits (reject-publish, alarms) still protect it.
/// </summary>
public sealed class QueueDepths(IReadOnlyList<string> queues, TimeSpan maxAge, TimeProvider clock)
{
    private readonly long[] _depths = new long[queues.Count];
    private readonly long[] _readAt = new long[queues.Count]; // clock timestamps; 0 = never

    public IReadOnlyList<string> Queues => queues;

    public void Record(int queue, long depth)
    {
        Interlocked.Exchange(ref _depths[queue], depth);
        Interlocked.Exchange(ref _readAt[queue], clock.GetTimestamp());
    }

    /// <summary>The last reading, however old (for the gauge).</summary>
    public long Last(int queue) => Interlocked.Read(ref _depths[queue]);

    /// <summary>The last reading if it is fresh enough to act on; null when there is none or it is too old.</summary>
    public long? Fresh(int queue)
    {
        var at = Interlocked.Read(ref _readAt[queue]);
        return at != 0 && clock.GetElapsedTime(at) <= maxAge ? Interlocked.Read(ref _depths[queue]) : null;
    }
}
