using Microsoft.Extensions.Logging;
using Notifications.Core.Bounces;
using Notifications.Core.Broker;
using Notifications.Core.Telemetry;
using Notifications.Core.Topology;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace Notifications.Worker.Bounces;

/// <summary>
/// The one place that settles what came back: recorded or dropped → ack; unreadable or unmatched → a copy in
/// <c>email.inbound.unparsed</c> with the reason, confirmed, then the ack; a failure on the way (a store or the broker) →
/// back to the queue after a pause (after <c>x-delivery-limit</c> tries the broker parks it there itself). Each is counted
/// in <c>notifications.inbound{kind, outcome}</c>.
/// </summary>
public sealed partial class InboundSettlement(ConfirmedPublisher publisher, TopologyNames names, NotificationsTelemetry telemetry, TimeProvider clock,
    ILogger<InboundSettlement> logger)
{
    private static readonly TimeSpan RetryPause = TimeSpan.FromSeconds(1);

    public async Task SettleAsync(BasicDeliverEventArgs delivery, IChannel channel, InboundOutcome outcome)
    {
        switch (outcome)
        {
            case InboundOutcome.Unparsed unparsed:
                await ParkAsync(delivery, unparsed.Why);
                Count(outcome.Kind, "unparsed");
                break;
            case InboundOutcome.Unmatched unmatched:
                await ParkAsync(delivery, unmatched.Why);
                Count(outcome.Kind, "unmatched");
                break;
            case InboundOutcome.Dropped:
                Count(outcome.Kind, "dropped");
                break;
            default:
                Count(outcome.Kind, "recorded");
                break;
        }
        await channel.BasicAckAsync(delivery.DeliveryTag, false);
    }

    /// <summary>Not this message's fault (a store, the broker): back to the queue after a pause, to be read again.</summary>
    public async Task ReturnAsync(BasicDeliverEventArgs delivery, IChannel channel, Exception error)
    {
        LogReturned(names.InboundQueue, error.GetBaseException().Message);
        await Task.Delay(RetryPause, clock);
        try
        {
            await channel.BasicNackAsync(delivery.DeliveryTag, false, requeue: true);
        }
        catch (Exception nack) when (BrokerConnection.IsBrokerUnavailable(nack) || nack is ObjectDisposedException)
        {
            // The channel is gone: the broker requeues it by itself.
        }
    }

    /// <summary>A copy in <c>email.inbound.unparsed</c>, with every header it came with and the reason, confirmed.</summary>
    private async Task ParkAsync(BasicDeliverEventArgs delivery, string reason)
    {
        var source = delivery.BasicProperties;
        var headers = source.Headers is null ? new Dictionary<string, object?>() : new Dictionary<string, object?>(source.Headers);
        headers[InboundHeaders.Reason] = Core.Contract.JobCodec.OneLine(reason);
        var properties = new BasicProperties
        {
            MessageId = source.MessageId,
            ContentType = source.ContentType,
            Type = source.Type,
            DeliveryMode = DeliveryModes.Persistent,
            Timestamp = source.IsTimestampPresent() ? source.Timestamp : new AmqpTimestamp(clock.GetUtcNow().ToUnixTimeSeconds()),
            Headers = headers,
        };
        await publisher.PublishAsync(TopologyNames.InboundUnparsedKey, properties, delivery.Body, CancellationToken.None);
        LogParked(source.MessageId, reason);
    }

    private void Count(string kind, string outcome) =>
        telemetry.Inbound.Add(1, new KeyValuePair<string, object?>("kind", kind), new KeyValuePair<string, object?>("outcome", outcome));

    [LoggerMessage(Level = LogLevel.Warning, Message = "Inbound message {MessageId} kept in email.inbound.unparsed: {Reason}")]
    private partial void LogParked(string? messageId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Inbound message returned to {Queue} to be read again: {Reason}")]
    private partial void LogReturned(string queue, string reason);
}
