using Notifications.Core.Topology;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using RabbitMQ.Client.Exceptions;

namespace Notifications.Dlq.DeadLetters;

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

    private DeadLetterQueue(IChannel channel, string name)
    {
        _channel = channel;
        Name = name;
    }

    public string Name { get; }

    /// <exception cref="DlqFailure">the DLQ does not exist (a wrong prefix?).</exception>
    public static async Task<DeadLetterQueue> OpenAsync(IConnection connection, string queue, CancellationToken cancellationToken)
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
        return new DeadLetterQueue(channel, queue);
    }

    /// <summary>Messages ready in the queue now.</summary>
    public async Task<uint> CountAsync(CancellationToken cancellationToken) =>
        (await _channel.QueueDeclarePassiveAsync(Name, cancellationToken)).MessageCount;

    /// <summary>Takes up to <paramref name="limit"/> messages in queue order, holding them unacked (list, show).</summary>
    public async Task<List<DeadLetter>> ReadAsync(int limit, CancellationToken cancellationToken)
    {
        var letters = new List<DeadLetter>();
        await foreach (var letter in StreamAsync(limit, cancellationToken))
            letters.Add(letter);
        return letters;
    }

    /// <summary>
    /// Hands over up to <paramref name="limit"/> messages in queue order as they arrive, each held unacked until it is
    /// removed (<see cref="RemoveAsync"/>) or returned with the rest at the end. At most <see cref="Window"/> bodies are
    /// on their way at once beyond the ones held, so a replay or export of 100,000 runs in flat memory.
    /// </summary>
    /// <remarks>
    /// Through a consumer with a prefetch, not basic.get (a round trip per message). The count to expect is the queue's
    /// when the read starts; a quiet second ends it early (someone else took messages meanwhile). Letters the caller keeps
    /// (not chosen for a replay) stay unacked and fill the prefetch: when the reader waits with the window full of them,
    /// the consumer is started again with a larger prefetch (a prefetch applies to consumers started after it is set;
    /// the deliveries held stay with the channel).
    /// </remarks>
    public async IAsyncEnumerable<DeadLetter> StreamAsync(int limit, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var ready = (await _channel.QueueDeclarePassiveAsync(Name, cancellationToken)).MessageCount;
        var expected = (int)Math.Min(ready, (uint)Math.Max(limit, 0));
        if (expected == 0)
            yield break;
        var arrived = System.Threading.Channels.Channel.CreateUnbounded<DeadLetter>(
            new System.Threading.Channels.UnboundedChannelOptions { SingleReader = true });
        var consumer = new AsyncEventingBasicConsumer(_channel);
        consumer.ReceivedAsync += (_, delivery) =>
        {
            _unsettled.TryAdd(delivery.DeliveryTag, 0);
            arrived.Writer.TryWrite(new DeadLetter(delivery.DeliveryTag, delivery.Body.ToArray(), delivery.BasicProperties));
            return Task.CompletedTask;
        };
        var prefetch = Math.Min(expected, Window);
        var tag = await ConsumeAsync(consumer, prefetch, cancellationToken);
        try
        {
            for (var handed = 0; handed < expected; handed++)
            {
                DeadLetter? next = null;
                while (next is null)
                {
                    if (arrived.Reader.TryRead(out next))
                        break;
                    if (prefetch != 0 && _unsettled.Count >= prefetch)
                    {
                        // Every delivery this consumer may have is held by the caller: widen the window.
                        await _channel.BasicCancelAsync(tag, noWait: false, cancellationToken);
                        prefetch = _unsettled.Count + Window > ushort.MaxValue ? 0 : _unsettled.Count + Window;
                        tag = await ConsumeAsync(consumer, prefetch, cancellationToken);
                        continue;
                    }
                    using var quiet = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                    quiet.CancelAfter(QuietEnd);
                    try
                    {
                        await arrived.Reader.WaitToReadAsync(quiet.Token);
                    }
                    catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                    {
                        yield break; // fewer than counted: someone else took messages meanwhile
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
    public const int Window = 1_000;

    private static readonly TimeSpan QuietEnd = TimeSpan.FromSeconds(1);

    private async Task<string> ConsumeAsync(AsyncEventingBasicConsumer consumer, int prefetch, CancellationToken cancellationToken)
    {
        await _channel.BasicQosAsync(0, (ushort)prefetch, false, cancellationToken);
        return await _channel.BasicConsumeAsync(Name, autoAck: false, consumer, cancellationToken);
    }

    /// <summary>Removes one message for good: call only once its copy is safe elsewhere, or to delete it.</summary>
    public async Task RemoveAsync(DeadLetter letter, CancellationToken cancellationToken)
    {
        if (!_unsettled.TryRemove(letter.DeliveryTag, out _))
            return; // settled already: a second ack of a tag is a channel error
        await _channel.BasicAckAsync(letter.DeliveryTag, multiple: false, cancellationToken);
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
        var highest = _unsettled.Keys.Max();
        await _channel.BasicNackAsync(highest, multiple: true, requeue: true);
        _unsettled.Clear();
    }

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
