using Microsoft.Extensions.Logging;
using Notifications.Core.Broker;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace Notifications.Worker.Transport;

/// <summary>
/// One queue consumed on a channel of its own with manual acks and a prefetch: open, subscribe, unsubscribe, and a
/// signal when the broker ended the consumer without being asked (the queue was deleted, or its node went away).
/// <see cref="EmailJobConsumer"/> and <see cref="Webhooks.WebhookSender"/> both consume through it.
/// </summary>
public sealed class QueueSubscription(string queue, ushort prefetch, Func<BasicDeliverEventArgs, IChannel, Task> handle,
    Action<QueueSubscription>? cancelledByBroker = null) : IAsyncDisposable
{
    private static readonly TimeSpan RetryInterval = TimeSpan.FromSeconds(2);

    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly System.Threading.Channels.Channel<bool> _cancelled = System.Threading.Channels.Channel.CreateUnbounded<bool>();
    private IChannel? _channel;
    private string? _consumerTag;

    public string Queue => queue;

    public bool IsConsuming => Volatile.Read(ref _consumerTag) is not null;

    /// <summary>
    /// The channel, opened (again, if the last one closed) with the prefetch; every prefetched delivery is handed over
    /// at once, so a slow one does not stop the ones behind it.
    /// </summary>
    public async Task OpenAsync(IConnection connection, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_channel is { IsOpen: true })
                return;
            _consumerTag = null;
            _channel = await connection.CreateChannelAsync(
                new CreateChannelOptions(publisherConfirmationsEnabled: false, publisherConfirmationTrackingEnabled: false,
                    consumerDispatchConcurrency: prefetch), cancellationToken);
            await _channel.BasicQosAsync(prefetchSize: 0, prefetchCount: prefetch, global: false, cancellationToken);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Starts consuming, unless it already does; false when there is no channel yet.</summary>
    public async Task<bool> SubscribeAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_consumerTag is not null)
                return true;
            if (_channel is not { } channel)
                return false;
            _consumerTag = await channel.BasicConsumeAsync(queue, autoAck: false, new Consumer(channel, this), cancellationToken);
            return true;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Stops consuming; what was delivered stays ours to settle.</summary>
    public async Task UnsubscribeAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_channel is not { IsOpen: true } channel || _consumerTag is not { } tag)
                return;
            _consumerTag = null;
            try
            {
                await channel.BasicCancelAsync(tag, noWait: false, cancellationToken);
            }
            catch (Exception ex) when (BrokerConnection.IsBrokerUnavailable(ex))
            {
                // The broker is gone; it returns our unacked deliveries by itself.
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    private void OnCancelledByBroker(string consumerTag)
    {
        // CompareExchange compares references: swap out the very string we hold, if it names this consumer.
        var current = Volatile.Read(ref _consumerTag);
        if (current != consumerTag || !ReferenceEquals(Interlocked.CompareExchange(ref _consumerTag, null, current), current))
            return; // our own cancel, or an old consumer
        _cancelled.Writer.TryWrite(true);
        cancelledByBroker?.Invoke(this);
    }

    /// <summary>
    /// Consumes until the host stops: subscribes (trying again until it can), and whenever the broker ends the consumer
    /// by itself (the queue was deleted, its node went away), restores the topology and subscribes again.
    /// </summary>
    /// <param name="subscribed">called each time the consumer is in place (to log it).</param>
    public async Task ConsumeUntilStoppedAsync(BrokerConnection broker, Action subscribed, TimeProvider clock, ILogger logger,
        CancellationToken stoppingToken)
    {
        var connection = await broker.WhenConnectedAsync(stoppingToken);
        while (true)
        {
            await UntilDoneAsync("consume " + queue, async ct =>
            {
                await OpenAsync(connection, ct);
                await SubscribeAsync(ct);
            }, RetryInterval, clock, logger, stoppingToken);
            subscribed();
            await _cancelled.Reader.ReadAsync(stoppingToken);
            await UntilDoneAsync("restore the topology", ct => broker.RestoreTopologyAsync($"the broker cancelled our consumer of {queue}", ct),
                RetryInterval, clock, logger, stoppingToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_channel is not null)
            await _channel.DisposeAsync();
        _gate.Dispose();
    }

    /// <summary>Hands the queue's deliveries over, and says when the broker cancels it.</summary>
    private sealed class Consumer(IChannel channel, QueueSubscription owner) : AsyncDefaultBasicConsumer(channel)
    {
        public override Task HandleBasicDeliverAsync(string consumerTag, ulong deliveryTag, bool redelivered, string exchange,
            string routingKey, IReadOnlyBasicProperties properties, ReadOnlyMemory<byte> body, CancellationToken cancellationToken = default) =>
            owner.Handle(new BasicDeliverEventArgs(consumerTag, deliveryTag, redelivered, exchange, routingKey, properties, body,
                cancellationToken), Channel);

        public override async Task HandleBasicCancelAsync(string consumerTag, CancellationToken cancellationToken = default)
        {
            await base.HandleBasicCancelAsync(consumerTag, cancellationToken);
            owner.OnCancelledByBroker(consumerTag);
        }
    }

    private Task Handle(BasicDeliverEventArgs args, IChannel channel) => handle(args, channel);

    /// <summary>Runs a step until it succeeds: whatever fails is logged and tried again; only shutdown ends it.</summary>
    public static async Task UntilDoneAsync(string what, Func<CancellationToken, Task> step, TimeSpan retryInterval, TimeProvider clock,
        ILogger logger, CancellationToken stoppingToken)
    {
        while (true)
        {
            try
            {
                await step(stoppingToken);
                return;
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogError("Could not {What} ({Reason}); trying again in {Delay}", what, ex.GetBaseException().Message, retryInterval);
                await Task.Delay(retryInterval, clock, stoppingToken);
            }
        }
    }
}
