using Notifications.Core.Topology;
using RabbitMQ.Client;
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
    public static async Task<DeadLetterQueue> OpenAsync(IConnection connection, TopologyNames names, CancellationToken cancellationToken)
    {
        var channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken);
        try
        {
            await channel.QueueDeclarePassiveAsync(names.DeadQueue, cancellationToken);
        }
        catch (OperationInterruptedException ex) when (ex.ShutdownReason?.ReplyCode == 404)
        {
            await channel.DisposeAsync();
            throw new DlqFailure($"there is no queue '{names.DeadQueue}' on this broker; check --prefix / RabbitMq:Prefix");
        }
        return new DeadLetterQueue(channel, names.DeadQueue);
    }

    /// <summary>Takes up to <paramref name="limit"/> messages in queue order, holding them unacked.</summary>
    public async Task<List<DeadLetter>> ReadAsync(int limit, CancellationToken cancellationToken)
    {
        var letters = new List<DeadLetter>();
        while (letters.Count < limit && await _channel.BasicGetAsync(Name, autoAck: false, cancellationToken) is { } result)
        {
            letters.Add(new DeadLetter(result.DeliveryTag, result.Body.ToArray(), result.BasicProperties));
            _lastTag = result.DeliveryTag;
        }
        return letters;
    }

    /// <summary>Removes one message for good: call only once its copy is safe elsewhere, or to delete it.</summary>
    public Task RemoveAsync(DeadLetter letter, CancellationToken cancellationToken) =>
        _channel.BasicAckAsync(letter.DeliveryTag, multiple: false, cancellationToken).AsTask();

    /// <summary>Puts back everything read and not removed, in its place.</summary>
    public async Task ReturnRestAsync()
    {
        if (_lastTag == 0 || !_channel.IsOpen)
            return;
        await _channel.BasicNackAsync(_lastTag, multiple: true, requeue: true);
        _lastTag = 0;
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
