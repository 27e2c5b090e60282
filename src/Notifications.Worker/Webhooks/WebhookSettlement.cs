using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Notifications.Core.Broker;
using Notifications.Core.Contract;
using Notifications.Core.Telemetry;
using Notifications.Core.Topology;
using Notifications.Core.Webhooks;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace Notifications.Worker.Webhooks;

/// <summary>
/// The one place that settles a callback (the email path's settlement, for webhooks): delivered → ack; not delivered → the
/// retry queue of its attempt, or <c>webhook.dead</c> (410 Gone at once); one that could not be tried (its endpoint's circuit
/// is open, or the endpoint is slow) waits on the first retry step without spending an attempt. The original is acked only
/// once its copy is confirmed. Each try that reached the receiver is written to the message log of the message it is about.
/// </summary>
public sealed partial class WebhookSettlement(
    ConfirmedPublisher publisher,
    TopologyNames names,
    NotificationsTelemetry telemetry,
    Core.MessageLog.MessageLogPublisher messageLog,
    TimeProvider clock,
    IOptions<WebhookOptions> options,
    ILogger<WebhookSettlement> logger)
{
    public const string DeferredHeader = "x-webhook-deferred";
    private readonly WebhookOptions _options = options.Value;

    /// <summary>Whether a failure on this attempt (1-based) is the last one the retry ladder allows.</summary>
    public bool IsLast(int attempts) => attempts > Math.Min(_options.Delays.Count, TopologyNames.WebhookRetryQueueCount);

    /// <summary>What a POST came to, settled: acked, deferred without spending an attempt, or parked for a retry or for good.</summary>
    public async Task SettleAsync(BasicDeliverEventArgs delivery, IChannel channel, PostResult posted, int attempts, string? clientName, string endpoint)
    {
        if (posted.Outcome != PostOutcome.CircuitOpen && WebhookLogEntry.Of(delivery, posted, attempts + 1, clientName, clock.GetUtcNow()) is { } entry)
            await messageLog.TryPublishAsync([entry], CancellationToken.None);
        switch (posted.Outcome)
        {
            case PostOutcome.CircuitOpen:
                // The receiver was not tried, so no attempt is spent. It waits on the ladder's first step and comes back;
                // the first try after the break is the probe that closes the circuit.
                logger.LogInformation("Webhook {WebhookId} of client {Client} waits: the circuit of {Endpoint} is open",
                    delivery.BasicProperties.MessageId, clientName, endpoint);
                await DeferAsync(delivery, channel, attempts);
                return;
            case PostOutcome.Delivered:
                telemetry.WebhooksSent.Add(1, ClientTag(clientName));
                if (delivery.BasicProperties.IsTimestampPresent())
                    telemetry.WebhookLatency.Record((clock.GetUtcNow() - DateTimeOffset.FromUnixTimeSeconds(delivery.BasicProperties.Timestamp.UnixTime))
                        .TotalSeconds, ClientTag(clientName));
                await channel.BasicAckAsync(delivery.DeliveryTag, false);
                return;
            default:
                telemetry.WebhooksFailed.Add(1, ClientTag(clientName));
                var gone = posted.Outcome == PostOutcome.Gone;
                await ParkAsync(delivery, channel, gone || IsLast(attempts + 1), attempts + 1, gone ? "gone" : "failed", posted.Error);
                return;
        }
    }

    internal static KeyValuePair<string, object?> ClientTag(string? client) => new("client", client ?? "");

    public async Task ParkAsync(BasicDeliverEventArgs delivery, IChannel channel, bool dead, int attempts, string kind, string error)
    {
        var properties = JobProperties.RetryCopy(delivery.BasicProperties, attempts, error, kind, dead ? null : _options.Delays[attempts - 1], clock.GetUtcNow());
        KeepWebhookType(properties, delivery.BasicProperties);
        properties.Headers!.Remove(DeferredHeader);
        await publisher.PublishAsync(dead ? TopologyNames.WebhookDeadKey : TopologyNames.WebhookRetryKey(attempts), properties, delivery.Body,
            CancellationToken.None);
        await channel.BasicAckAsync(delivery.DeliveryTag, false);
        var client = HeaderValues.GetString(delivery.BasicProperties.Headers, JobHeaders.Client);
        if (dead)
        {
            telemetry.WebhooksDead.Add(1, ClientTag(client));
            LogDead(delivery.BasicProperties.MessageId, client, names.WebhookDeadQueue, attempts, kind, error);
        }
        else
        {
            LogRetrying(delivery.BasicProperties.MessageId, client, attempts, error, _options.Delays[attempts - 1]);
        }
    }

    /// <summary>Back through the first retry queue without spending an attempt: its endpoint had no free slot, or its circuit is open.</summary>
    public async Task DeferAsync(BasicDeliverEventArgs delivery, IChannel channel, int attempts)
    {
        var properties = JobProperties.CopyOf(delivery.BasicProperties, clock.GetUtcNow());
        KeepWebhookType(properties, delivery.BasicProperties);
        properties.Headers![DeferredHeader] = HeaderValues.GetInt(delivery.BasicProperties.Headers, DeferredHeader) + 1;
        properties.Headers[JobHeaders.Attempts] = attempts;
        properties.Expiration = JobProperties.Expiration(_options.Delays[0]);
        await publisher.PublishAsync(TopologyNames.WebhookRetryKey(1), properties, delivery.Body, CancellationToken.None);
        await channel.BasicAckAsync(delivery.DeliveryTag, false);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Webhook {WebhookId} of client {Client} dead-lettered to {Queue} after {Attempts} attempt(s) as {FailureKind}: {Error}")]
    private partial void LogDead(string? webhookId, string? client, string queue, int attempts, string failureKind, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Webhook {WebhookId} of client {Client} failed attempt {Attempt} ({Error}); retry in {Delay}")]
    private partial void LogRetrying(string? webhookId, string? client, int attempt, string error, TimeSpan delay);

    private static void KeepWebhookType(BasicProperties copy, IReadOnlyBasicProperties source)
    {
        copy.ContentType = WebhookOutbox.ContentType;
        copy.Type = source.Type;
    }
}
