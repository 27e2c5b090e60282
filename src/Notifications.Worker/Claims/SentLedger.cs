using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;

namespace Notifications.Worker.Claims;

/// <summary>
/// The jobs this process saw accepted by the relay lately, in memory: a redelivery that reaches this worker is
/// not sent again even when the store's sent marker could not be written. Bounded: the oldest ids go first.
/// </summary>
/// <remarks>
/// An id is held as 16 bytes, not as its string: a job id spelled as the API spells a GUID as the GUID itself, any
/// other as the first 16 bytes of its SHA-256. A full ledger is about 16 MB instead of 35 (bench: the worker's working set
/// grew 19 % over 100,000 jobs while it filled, against at most 15 % asked).
/// </remarks>
public sealed class SentLedger(int capacity = SentLedger.DefaultCapacity)
{
    /// <summary>More than a few minutes of the worker's top speed: redeliveries come within seconds.</summary>
    public const int DefaultCapacity = 200_000;

    private readonly ConcurrentDictionary<UInt128, byte> _sent = new();
    private readonly ConcurrentQueue<UInt128> _order = new();

    // Counted here: ConcurrentDictionary.Count takes every lock of the dictionary, and this runs once per sent job.
    private int _count;

    public void Add(string jobId)
    {
        var key = KeyOf(jobId);
        if (!_sent.TryAdd(key, 0))
            return;
        _order.Enqueue(key);
        Interlocked.Increment(ref _count);
        while (Volatile.Read(ref _count) > capacity && _order.TryDequeue(out var oldest))
            if (_sent.TryRemove(oldest, out _))
                Interlocked.Decrement(ref _count);
    }

    public bool Contains(string jobId) => _sent.ContainsKey(KeyOf(jobId));

    internal static UInt128 KeyOf(string jobId)
    {
        // Only the one spelling the API writes (lower-case, with hyphens): "ABC…" and "abc…" are two ids, not one GUID.
        if (jobId.Length == 36 && !jobId.AsSpan().ContainsAnyInRange('A', 'Z') && Guid.TryParseExact(jobId, "D", out var guid))
            return MemoryMarshal.Read<UInt128>(MemoryMarshal.AsBytes(new ReadOnlySpan<Guid>(in guid)));
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(jobId), hash);
        return MemoryMarshal.Read<UInt128>(hash);
    }
}
