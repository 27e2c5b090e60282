using System.Diagnostics;
using Notifications.Core.Topology;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using RabbitMQ.Client.Exceptions;

namespace Notifications.Core.DeadLetters;

/// <summary>
/// A look at the DLQ: messages are taken without ack, so the broker keeps owning them. What is not
/// acked (removed) is returned with one requeue at the end — a classic queue puts requeued messages
/// back in their place, so looking never loses or reorders anything, even if this process dies.
/// </summary>
public sealed class DeadLetterQueue : IAsyncDisposable
{
    private readonly IChannel _channel;
    // Deliveries neither removed nor returned yet: what a final nack may cover.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<ulong, byte> _unsettled = new();

    private readonly TimeProvider _clock;

    private DeadLetterQueue(IChannel channel, string name, TimeProvider clock)
    {
        _channel = channel;
        _clock = clock;
        Name = name;
    }

    public string Name { get; }

    /// <exception cref="DlqFailure">the DLQ does not exist (a wrong prefix?).</exception>
    public static async Task<DeadLetterQueue> OpenAsync(IConnection connection, string queue, TimeProvider clock, CancellationToken cancellationToken)
    {
        // One delivery handed over at a time: the connection's dispatch concurrency (Worker:Concurrency) would let
        // deliveries overtake each other, and an export or a listing must keep queue order.
        var channel = await connection.CreateChannelAsync(
            new CreateChannelOptions(publisherConfirmationsEnabled: false, publisherConfirmationTrackingEnabled: false,
                consumerDispatchConcurrency: 1), cancellationToken);
        try
        {
            await channel.QueueDeclarePassiveAsync(queue, cancellationToken);
        }
        catch (OperationInterruptedException ex) when (ex.ShutdownReason?.ReplyCode == 404)
        {
            await channel.DisposeAsync();
            throw new DlqFailure($"there is no queue '{queue}' on this broker; check --prefix / RabbitMq:Prefix");
        }
        return new DeadLetterQueue(channel, queue, clock);
    }

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
    /// else took messages meanwhile). Letters the caller keeps
    /// (<see cref="Keep"/>: not chosen for a replay, or only looked at) stay unacked and fill the prefetch: when the reader
    /// waits with the window half full of them, the consumer is started again with a larger prefetch (a prefetch applies to consumers started after it is set;
    /// the deliveries held stay with the channel).
    /// </remarks>
    public async IAsyncEnumerable<DeadLetter> StreamAsync(int limit, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var ready = (await _channel.QueueDeclarePassiveAsync(Name, cancellationToken)).MessageCount;
        var expected = (int)Math.Min(ready, (uint)Math.Max(limit, 0));
        if (expected == 0)
            yield break;
        // Not SingleReader: that kind cannot tell its Count, which the quiet end asks.
        var arrived = System.Threading.Channels.Channel.CreateUnbounded<DeadLetter>();
        var consumer = new AsyncEventingBasicConsumer(_channel);
        consumer.ReceivedAsync += (_, delivery) =>
        {
            _unsettled.TryAdd(delivery.DeliveryTag, Held);
            arrived.Writer.TryWrite(new DeadLetter(delivery.DeliveryTag, delivery.Body.ToArray(), delivery.BasicProperties));
            return Task.CompletedTask;
        };
        var prefetch = Math.Min(expected, Window);
        var tag = await ConsumeAsync(consumer, prefetch, cancellationToken);
        try
        {
            var quietSeconds = 0;
            for (var handed = 0; handed < expected; handed++)
            {
                DeadLetter? next = null;
                while (next is null)
                {
                    if (arrived.Reader.TryRead(out next))
                        break;
                    if (prefetch != 0 && Volatile.Read(ref _kept) > prefetch - Window / 2)
                    {
                        // Letters the caller leaves in place fill the window: widen it past them.
                        await _channel.BasicCancelAsync(tag, noWait: false, cancellationToken);
                        var wider = Volatile.Read(ref _kept) + Window;
                        prefetch = wider > ushort.MaxValue ? 0 : wider;
                        tag = await ConsumeAsync(consumer, prefetch, cancellationToken);
                        continue;
                    }
                    using var quiet = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                    quiet.CancelAfter(QuietEnd);
                    try
                    {
                        await arrived.Reader.WaitToReadAsync(quiet.Token);
                        quietSeconds = 0;
                    }
                    catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                    {
                        // Nothing for a second. Over only if nothing is left ready (someone else took messages meanwhile);
                        // without a prefetch limit every message may be on its way to us (not ready): wait longer then.
                        quietSeconds++;
                        if ((prefetch != 0 || quietSeconds >= UnlimitedQuietEnd) && arrived.Reader.Count == 0 && await CountAsync(cancellationToken) == 0)
                            yield break;
                    }
                }
                yield return next;
            }
        }
        finally
        {
            if (_channel.IsOpen)
                await _channel.BasicCancelAsync(tag, noWait: false, CancellationToken.None);
        }
    }

    /// <summary>Bodies on their way to the reader beyond the ones it holds: the memory a long read takes.</summary>
    public const int Window = 3_000;

    private static readonly TimeSpan QuietEnd = TimeSpan.FromSeconds(1);
    private const int UnlimitedQuietEnd = 10;

    /// <summary>
    /// The caller leaves this letter in place (not chosen): it stays unacked until the end, and the window grows past it.
    /// </summary>
    public void Keep(DeadLetter letter) => Interlocked.Increment(ref _kept);

    private int _kept;

    private async Task<string> ConsumeAsync(AsyncEventingBasicConsumer consumer, int prefetch, CancellationToken cancellationToken)
    {
        await _channel.BasicQosAsync(0, (ushort)prefetch, false, cancellationToken);
        return await _channel.BasicConsumeAsync(Name, autoAck: false, consumer, cancellationToken);
    }

    /// <summary>
    /// Removes one message for good: call only once its copy is safe elsewhere, or to delete it. Removals are settled
    /// in batches (<see cref="AckBatch"/>): one ack with <c>multiple</c> for every removed tag below the lowest one still
    /// held or in flight, single acks above it; whatever is pending is settled before the rest is returned.
    /// </summary>
    public async Task RemoveAsync(DeadLetter letter, CancellationToken cancellationToken)
    {
        if (!_unsettled.TryUpdate(letter.DeliveryTag, Removed, Held))
            return; // settled already, or removed twice: a second ack of a tag is a channel error
        if (Interlocked.Increment(ref _pendingRemovals) >= AckBatch)
            await SettleRemovalsAsync(cancellationToken);
    }

    /// <summary>Removals acked together: the broker handles one frame instead of this many.</summary>
    public const int AckBatch = 256;

    private const byte Held = 0;
    private const byte Removed = 1;
    private int _pendingRemovals;
    private readonly SemaphoreSlim _settling = new(1, 1);

    private async Task SettleRemovalsAsync(CancellationToken cancellationToken)
    {
        await _settling.WaitAsync(cancellationToken);
        try
        {
            Interlocked.Exchange(ref _pendingRemovals, 0);
            var lowestHeld = ulong.MaxValue;
            var removed = new List<ulong>();
            foreach (var (tag, state) in _unsettled)
            {
                if (state == Removed)
                    removed.Add(tag);
                else if (tag < lowestHeld)
                    lowestHeld = tag;
            }
            if (removed.Count == 0)
                return;
            // Every unsettled tag below the lowest held one is removed: one ack with multiple covers them all.
            var below = removed.Where(tag => tag < lowestHeld).ToList();
            if (below.Count > 0)
            {
                var upTo = below.Max();
                await _channel.BasicAckAsync(upTo, multiple: true, cancellationToken);
                foreach (var tag in below)
                    _unsettled.TryRemove(tag, out _);
            }
            foreach (var tag in removed.Where(tag => tag > lowestHeld))
            {
                await _channel.BasicAckAsync(tag, multiple: false, cancellationToken);
                _unsettled.TryRemove(tag, out _);
            }
        }
        finally
        {
            _settling.Release();
        }
    }

    /// <summary>
    /// Puts back everything read and not removed, in its place: one nack with <c>multiple</c> up to the highest tag still
    /// held (never a tag already acked: the broker answers that with a channel error, "unknown delivery tag").
    /// </summary>
    /// <exception cref="DlqFailure">the broker closed the channel on us (a protocol error): the run is reported failed.</exception>
    public async Task ReturnRestAsync()
    {
        if (_channel.CloseReason is { Initiator: ShutdownInitiator.Peer } closed)
            throw new DlqFailure($"the broker closed the channel to {Name}: {closed.ReplyCode} {closed.ReplyText}; " +
                "what was not replayed or deleted is back in the queue");
        if (_unsettled.IsEmpty || !_channel.IsOpen)
            return;
        await SettleRemovalsAsync(CancellationToken.None);
        if (_unsettled.IsEmpty)
            return;
        var returning = _unsettled.Count;
        var before = await CountAsync(CancellationToken.None);
        var highest = _unsettled.Keys.Max();
        await _channel.BasicNackAsync(highest, multiple: true, requeue: true);
        _unsettled.Clear();
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
            // Closing the channel hands anything still unacked back to the queue as well.
            await _channel.DisposeAsync();
        }
    }
}
