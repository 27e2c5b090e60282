using System.Diagnostics;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace Notifications.Core.DeadLetters;

/// <summary>
/// A look at the DLQ: messages are taken without ack, so the broker keeps owning them. What is not
/// acked (removed) is returned with one requeue at the end — a classic queue puts requeued messages
/// back in their place, so looking never loses or reorders anything, even if this process dies.
/// </summary>
/// <remarks>
/// Letters are read through a few channels one after the other (<see cref="Segment"/>), each holding at most a few thousand
/// unacked: the broker finds the message of a single ack by walking its channel's unacked messages from the oldest, so one
/// channel holding 98,000 letters left in place made each removal behind them cost a walk past all of them (a group of 2,000
/// among 100,000 took minutes of broker CPU).
/// </remarks>
public sealed partial class DeadLetterQueue : IAsyncDisposable
{
    private readonly IConnection _connection;
    // Declares and counts; the first segment reads through it too.
    private readonly IChannel _channel;
    private readonly List<Segment> _segments = [];
    private readonly TimeProvider _clock;

    private DeadLetterQueue(IConnection connection, IChannel channel, string name, TimeProvider clock)
    {
        _connection = connection;
        _channel = channel;
        _clock = clock;
        Name = name;
    }

    public string Name { get; }

    /// <exception cref="DlqFailure">the DLQ does not exist (a wrong prefix?).</exception>
    public static async Task<DeadLetterQueue> OpenAsync(IConnection connection, string queue, TimeProvider clock, CancellationToken cancellationToken)
    {
        var channel = await OpenChannelAsync(connection, cancellationToken);
        try
        {
            await channel.QueueDeclarePassiveAsync(queue, cancellationToken);
        }
        catch (OperationInterruptedException ex) when (ex.ShutdownReason?.ReplyCode == 404)
        {
            await channel.DisposeAsync();
            throw new DlqFailure($"there is no queue '{queue}' on this broker; check --prefix / RabbitMq:Prefix");
        }
        return new DeadLetterQueue(connection, channel, queue, clock);
    }

    // One delivery handed over at a time: the connection's dispatch concurrency (Worker:Concurrency) would let
    // deliveries overtake each other, and an export or a listing must keep queue order.
    private static Task<IChannel> OpenChannelAsync(IConnection connection, CancellationToken cancellationToken) =>
        connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: false, publisherConfirmationTrackingEnabled: false,
            consumerDispatchConcurrency: 1), cancellationToken);

    /// <summary>Messages ready in the queue now.</summary>
    public async Task<uint> CountAsync(CancellationToken cancellationToken) =>
        (await _channel.QueueDeclarePassiveAsync(Name, cancellationToken)).MessageCount;

    /// <summary>Takes up to <paramref name="limit"/> messages in queue order, holding them unacked (list, show).</summary>
    public async Task<List<DeadLetter>> ReadAsync(int limit, CancellationToken cancellationToken)
    {
        var letters = new List<DeadLetter>();
        await foreach (var letter in StreamAsync(limit, cancellationToken))
        {
            Keep(letter);
            letters.Add(letter);
        }
        return letters;
    }

    /// <summary>
    /// Hands over up to <paramref name="limit"/> messages in queue order as they arrive, each held unacked until it is
    /// removed (<see cref="RemoveAsync"/>) or returned with the rest at the end. At most <see cref="Window"/> bodies are
    /// on their way at once beyond the ones held, so a replay or export of 100,000 runs in flat memory.
    /// </summary>
    /// <remarks>
    /// Through a consumer with a prefetch, not basic.get (a round trip per message). The count to expect is the queue's
    /// when the read starts; it ends early only when nothing arrives for a second and nothing is left ready (someone
    /// else took messages meanwhile). Letters the caller keeps (<see cref="Keep"/>: not chosen for a replay, or only looked
    /// at) stay unacked and fill the prefetch: when the reader waits with the window half full of them, the consumer is
    /// started again with a larger prefetch (a prefetch applies to consumers started after it is set; the deliveries held
    /// stay with the channel), and once a channel holds <see cref="SegmentHeld"/> the reading goes on through a new one.
    /// </remarks>
    public async IAsyncEnumerable<DeadLetter> StreamAsync(int limit, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var ready = (await _channel.QueueDeclarePassiveAsync(Name, cancellationToken)).MessageCount;
        var expected = (int)Math.Min(ready, (uint)Math.Max(limit, 0));
        if (expected == 0)
            yield break;
        // Not SingleReader: that kind cannot tell its Count, which the quiet end asks.
        var arrived = System.Threading.Channels.Channel.CreateUnbounded<DeadLetter>();
        var segment = _segments.Count == 0 ? new Segment(_channel, arrived.Writer) : await NewSegmentAsync(arrived.Writer, cancellationToken);
        if (_segments.Count == 0)
            _segments.Add(segment);
        await segment.ConsumeAsync(Name, Math.Min(expected, Window), cancellationToken);
        try
        {
            for (var handed = 0; handed < expected; handed++)
            {
                // Letters the caller leaves in place fill the window: make room before the deliveries stop, not after.
                if (segment.Kept > segment.Prefetch - Math.Min(Window / 2, expected - handed))
                    segment = await MakeRoomAsync(segment, arrived.Writer, cancellationToken);
                DeadLetter? next = null;
                while (next is null)
                {
                    if (arrived.Reader.TryRead(out next))
                        break;
                    using var quiet = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                    quiet.CancelAfter(QuietEnd);
                    try
                    {
                        await arrived.Reader.WaitToReadAsync(quiet.Token);
                    }
                    catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                    {
                        // Nothing for a second: over if nothing is left ready (someone else took messages meanwhile).
                        if (arrived.Reader.Count == 0 && await CountAsync(cancellationToken) == 0)
                            yield break;
                    }
                }
                yield return next;
            }
        }
        finally
        {
            if (segment.Channel.IsOpen)
                await segment.StopAsync(CancellationToken.None);
        }
    }

    /// <summary>
    /// Widens the window of <paramref name="segment"/> past the letters it holds, or once it holds <see cref="SegmentHeld"/>,
    /// goes on through a new channel. The consumer is stopped first, so deliveries stay in queue order.
    /// </summary>
    private async Task<Segment> MakeRoomAsync(Segment segment, System.Threading.Channels.ChannelWriter<DeadLetter> arrived,
        CancellationToken cancellationToken)
    {
        await segment.StopAsync(cancellationToken);
        if (segment.Kept + Window <= SegmentHeld)
        {
            await segment.ConsumeAsync(Name, segment.Kept + Window, cancellationToken);
            return segment;
        }
        var next = await NewSegmentAsync(arrived, cancellationToken);
        await next.ConsumeAsync(Name, Window, cancellationToken);
        return next;
    }

    private async Task<Segment> NewSegmentAsync(System.Threading.Channels.ChannelWriter<DeadLetter> arrived, CancellationToken cancellationToken)
    {
        var segment = new Segment(await OpenChannelAsync(_connection, cancellationToken), arrived);
        _segments.Add(segment);
        return segment;
    }

    /// <summary>Bodies on their way to the reader beyond the ones it holds: the memory a long read takes.</summary>
    public const int Window = 3_000;

    /// <summary>
    /// Letters one channel holds at most before reading goes on through another: what a single ack may have to walk past.
    /// 100,000 letters left in place take 13 channels of the 2,047 a connection may open.
    /// </summary>
    public const int SegmentHeld = 8_000;

    private static readonly TimeSpan QuietEnd = TimeSpan.FromSeconds(1);

    /// <summary>
    /// The caller leaves this letter in place (not chosen): it stays unacked until the end, and the window grows past it.
    /// </summary>
    public void Keep(DeadLetter letter)
    {
        if (letter.Source is { } segment && segment.Unsettled.TryUpdate(letter.DeliveryTag, KeptState, HeldState))
            Interlocked.Increment(ref segment.Kept);
    }

    /// <summary>
    /// Removes one message for good: call only once its copy is safe elsewhere, or to delete it. Removals are settled
    /// in batches (<see cref="AckBatch"/>): one ack with <c>multiple</c> for every removed tag below the lowest one not
    /// removed; a single ack for one that a kept letter below it will always block; one above a letter still in flight waits
    /// for the next batch, which usually covers it with the <c>multiple</c> (a replay's confirms come back out of order across
    /// its channels, and acking those one by one cost the broker a walk of the unacked list each). Whatever is pending is settled
    /// before the rest is returned.
    /// </summary>
    public async Task RemoveAsync(DeadLetter letter, CancellationToken cancellationToken)
    {
        if (letter.Source is not { } segment || !segment.Unsettled.TryUpdate(letter.DeliveryTag, RemovedState, HeldState))
            return; // settled already, or removed twice: a second ack of a tag is a channel error
        if (Interlocked.Increment(ref segment.PendingRemovals) == AckBatch) // one caller settles; the others go on
            await segment.SettleRemovalsAsync(cancellationToken);
    }

    /// <summary>Removals acked together: the broker handles one frame instead of this many.</summary>
    public const int AckBatch = 256;

    // A delivery's state while unsettled: handed over (the caller has not decided yet, or its copy is in flight), removed
    // (to be acked), or kept (stays in the queue: returned at the end).
    private const byte HeldState = 0;
    private const byte RemovedState = 1;
    private const byte KeptState = 2;

    /// <summary>
    /// Puts back everything read and not removed, in its place: on each channel, one nack with <c>multiple</c> up to the
    /// highest tag still held (never a tag already acked: the broker answers that with a channel error, "unknown delivery tag").
    /// </summary>
    /// <exception cref="DlqFailure">the broker closed a channel on us (a protocol error): the run is reported failed.</exception>
    public async Task ReturnRestAsync()
    {
        if (_segments.Select(segment => segment.Channel.CloseReason).FirstOrDefault(reason => reason is { Initiator: ShutdownInitiator.Peer }) is { } closed)
            throw new DlqFailure($"the broker closed the channel to {Name}: {closed.ReplyCode} {closed.ReplyText}; " +
                "what was not replayed or deleted is back in the queue");
        var returning = 0;
        uint? before = null;
        foreach (var segment in _segments.Where(segment => !segment.Unsettled.IsEmpty && segment.Channel.IsOpen))
        {
            await segment.SettleRemovalsAsync(CancellationToken.None, final: true);
            if (segment.Unsettled.IsEmpty)
                continue;
            before ??= await CountAsync(CancellationToken.None);
            returning += segment.Unsettled.Count;
            await segment.Channel.BasicNackAsync(segment.Unsettled.Keys.Max(), multiple: true, requeue: true);
            segment.Unsettled.Clear();
            segment.Kept = 0;
        }
        if (before is null)
            return;
        // The broker puts a large return back a while after the nack: wait until they are ready again, so the next
        // command (an export, then a replay) sees every letter. Bounded: someone else may take some meanwhile.
        var started = _clock.GetTimestamp();
        while (await CountAsync(CancellationToken.None) < before + returning && _clock.GetElapsedTime(started) < ReturnPatience)
            await Task.Delay(ReturnPoll, _clock);
    }

    private static readonly TimeSpan ReturnPatience = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan ReturnPoll = TimeSpan.FromMilliseconds(20);

    public async ValueTask DisposeAsync()
    {
        try
        {
            await ReturnRestAsync();
        }
        finally
        {
            // Closing a channel hands anything still unacked back to the queue as well.
            foreach (var segment in _segments.Where(segment => segment.Channel != _channel))
                await segment.Channel.DisposeAsync();
            await _channel.DisposeAsync();
        }
    }
}
