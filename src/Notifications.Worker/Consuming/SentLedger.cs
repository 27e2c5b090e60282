using System.Collections.Concurrent;

namespace Notifications.Worker.Consuming;

/// <summary>
/// The jobs this process saw accepted by the relay lately, in memory: a redelivery that reaches this worker is
/// not sent again even when the store's sent marker could not be written. Bounded: the oldest ids go first.
/// </summary>
public sealed class SentLedger(int capacity = SentLedger.DefaultCapacity)
{
    /// <summary>More than a few minutes of the worker's top speed: redeliveries come within seconds.</summary>
    public const int DefaultCapacity = 200_000;

    private readonly ConcurrentDictionary<string, byte> _sent = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _order = new();

    // Counted here: ConcurrentDictionary.Count takes every lock of the dictionary, and this runs once per sent job.
    private int _count;

    public void Add(string jobId)
    {
        if (!_sent.TryAdd(jobId, 0))
            return;
        _order.Enqueue(jobId);
        Interlocked.Increment(ref _count);
        while (Volatile.Read(ref _count) > capacity && _order.TryDequeue(out var oldest))
            if (_sent.TryRemove(oldest, out _))
                Interlocked.Decrement(ref _count);
    }

    public bool Contains(string jobId) => _sent.ContainsKey(jobId);
}
