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
    private ulong _lastTag;

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

    /// <summary>Takes up to <paramref name="limit"/> messages in queue order, holding them unacked.</summary>
    /// <remarks>
    /// Through a consumer with a prefetch, not basic.get: one round trip per message made a 5,000-letter replay
    /// spend 9 s reading. The count to expect is the queue's when the read starts; a quiet second ends it early
    /// (someone else took messages meanwhile).
    /// </remarks>
    public async Task<List<DeadLetter>> ReadAsync(int limit, CancellationToken cancellationToken)
    {
        var ready = (await _channel.QueueDeclarePassiveAsync(Name, cancellationToken)).MessageCount;
        var expected = (int)Math.Min(ready, (uint)Math.Max(limit, 0));
        var letters = new List<DeadLetter>(expected);
        if (expected == 0)
            return letters;
        // Every letter stays unacked until removed or returned, so the prefetch is the whole read (0 = no limit past 65,535).
        await _channel.BasicQosAsync(0, expected <= ushort.MaxValue ? (ushort)expected : (ushort)0, false, cancellationToken);
        var arrived = System.Threading.Channels.Channel.CreateUnbounded<DeadLetter>(
            new System.Threading.Channels.UnboundedChannelOptions { SingleReader = true });
        var consumer = new AsyncEventingBasicConsumer(_channel);
        consumer.ReceivedAsync += (_, delivery) =>
        {
            NoteDelivered(delivery.DeliveryTag);
            arrived.Writer.TryWrite(new DeadLetter(delivery.DeliveryTag, delivery.Body.ToArray(), delivery.BasicProperties));
            return Task.CompletedTask;
        };
        var tag = await _channel.BasicConsumeAsync(Name, autoAck: false, consumer, cancellationToken);
        try
        {
            while (letters.Count < expected)
            {
                using var quiet = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                quiet.CancelAfter(QuietEnd);
                try
                {
                    letters.Add(await arrived.Reader.ReadAsync(quiet.Token));
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    break;
                }
            }
        }
        finally
        {
            await _channel.BasicCancelAsync(tag, noWait: false, CancellationToken.None);
        }
        return letters;
    }

    private static readonly TimeSpan QuietEnd = TimeSpan.FromSeconds(1);

    /// <summary>The highest tag handed to us: returning "everything up to it" covers every delivery, extra ones included.</summary>
    private void NoteDelivered(ulong deliveryTag)
    {
        ulong seen;
        do
            seen = Interlocked.Read(ref _lastTag);
        while (deliveryTag > seen && Interlocked.CompareExchange(ref _lastTag, deliveryTag, seen) != seen);
    }

    /// <summary>Removes one message for good: call only once its copy is safe elsewhere, or to delete it.</summary>
    public Task RemoveAsync(DeadLetter letter, CancellationToken cancellationToken) =>
        _channel.BasicAckAsync(letter.DeliveryTag, multiple: false, cancellationToken).AsTask();

    /// <summary>Puts back everything read and not removed, in its place.</summary>
    public async Task ReturnRestAsync()
    {
        var last = Interlocked.Exchange(ref _lastTag, 0);
        if (last == 0 || !_channel.IsOpen)
            return;
        await _channel.BasicNackAsync(last, multiple: true, requeue: true);
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
