using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using Notifications.SmtpSink;
using SmtpServer;
using SmtpServer.Protocol;
using SmtpServer.Storage;

namespace Notifications.Bench;

/// <summary>The SMTP sink every stage sends to: counts each mail by its Message-Id and when it came.</summary>
public sealed class BenchSink : IAsyncDisposable
{
    private readonly SinkServer _server;
    private ConcurrentDictionary<string, List<long>> _arrivals = new();
    private long _count;

    public BenchSink(TimeSpan replyDelay)
    {
        _server = new SinkServer(new Store(this, replyDelay), "bench-sink");
        // SmtpServer answers any exception while it reads a DATA block with a bare 554 and logs nothing: catch each such
        // exception as it is thrown, with the stack that threw it, so a run that sees a 554 names its cause.
        AppDomain.CurrentDomain.FirstChanceException += (_, e) =>
        {
            if (e.Exception is OperationCanceledException || Volatile.Read(ref _dataFailures) >= 3)
                return;
            var stack = Environment.StackTrace;
            if (!stack.Contains("SmtpServer.Protocol.DataCommand", StringComparison.Ordinal))
                return;
            Interlocked.Increment(ref _dataFailures);
            Console.Error.WriteLine($"bench sink: {e.Exception.GetType().FullName} while SmtpServer read a DATA block " +
                $"(it answers 554): {e.Exception.Message}\n{stack}");
        };
    }

    private int _dataFailures;

    public int Port => _server.Port;

    public long Count => Interlocked.Read(ref _count);

    /// <summary>Exceptions thrown while storing a mail (SmtpServer answers those with a bare 554), and the first of them.</summary>
    public (int Count, string? First) Failures => (Volatile.Read(ref _failures), _firstFailure);

    private int _failures;
    private string? _firstFailure;

    /// <summary>Arrival times (Stopwatch ticks) per Message-Id local part (the job id).</summary>
    public IReadOnlyDictionary<string, List<long>> Arrivals => _arrivals;

    /// <summary>Above this many mails in one second the sink answers SES's <c>454 Throttling failure</c> (0: never).</summary>
    public int ThrottleAbovePerSecond { get; set; }

    /// <summary>Mails answered 454 since the last reset.</summary>
    public long ThrottledCount => Interlocked.Read(ref _throttled);

    private long _throttled;
    private readonly Lock _rateLock = new();
    private long _second;
    private int _inSecond;

    public void Reset()
    {
        Interlocked.Exchange(ref _throttled, 0);
        _arrivals = new ConcurrentDictionary<string, List<long>>();
        Interlocked.Exchange(ref _count, 0);
    }

    /// <summary>Waits for <paramref name="count"/> mails; false when none came for <paramref name="stall"/> (some went elsewhere, e.g. the DLQ).</summary>
    public async Task<bool> WaitForAsync(long count, TimeSpan stall)
    {
        var (seen, since) = (Count, Stopwatch.GetTimestamp());
        while (Count < count)
        {
            if (Count != seen)
                (seen, since) = (Count, Stopwatch.GetTimestamp());
            else if (Stopwatch.GetElapsedTime(since) > stall)
                return false;
            await Task.Delay(20);
        }
        return true;
    }

    public ValueTask DisposeAsync() => _server.DisposeAsync();

    /// <summary>Counts this mail in the current second; true when it is one too many (fixed one-second windows, like SES).</summary>
    private bool OverRate()
    {
        lock (_rateLock)
        {
            var second = Stopwatch.GetTimestamp() / Stopwatch.Frequency;
            if (second != _second)
                (_second, _inSecond) = (second, 0);
            return ++_inSecond > ThrottleAbovePerSecond;
        }
    }

    private sealed class Store(BenchSink sink, TimeSpan replyDelay) : MessageStore
    {
        private static readonly byte[] MessageIdHeader = "\nMessage-Id: <"u8.ToArray();

        public override async Task<SmtpResponse> SaveAsync(ISessionContext context, IMessageTransaction transaction,
            ReadOnlySequence<byte> buffer, CancellationToken cancellationToken)
        {
            if (replyDelay > TimeSpan.Zero)
                await Task.Delay(replyDelay, cancellationToken); // a remote provider's round trip
            if (sink.ThrottleAbovePerSecond > 0 && sink.OverRate())
            {
                Interlocked.Increment(ref sink._throttled);
                return new SmtpResponse((SmtpReplyCode)454, "4.7.0 Throttling failure: Maximum sending rate exceeded.");
            }
            try
            {
                var now = Stopwatch.GetTimestamp();
                var id = JobIdOf(buffer);
                var list = sink._arrivals.GetOrAdd(id, _ => []);
                lock (list)
                    list.Add(now);
                Interlocked.Increment(ref sink._count);
                return SmtpResponse.Ok;
            }
            catch (Exception ex)
            {
                if (Interlocked.Increment(ref sink._failures) == 1)
                    sink._firstFailure = ex.ToString();
                throw;
            }
        }

        // The headers come first; no MIME parsing, which would cost the sink more CPU than the relay it stands for.
        private static string JobIdOf(ReadOnlySequence<byte> buffer)
        {
            var head = buffer.Slice(0, Math.Min(buffer.Length, 4096)).ToArray();
            var at = head.AsSpan().IndexOf(MessageIdHeader);
            if (at < 0)
                return "(none)";
            var rest = head.AsSpan(at + MessageIdHeader.Length);
            var end = rest.IndexOfAny((byte)'@', (byte)'>');
            return Encoding.ASCII.GetString(end < 0 ? rest : rest[..end]);
        }
    }
}
