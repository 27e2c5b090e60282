using Notifications.Core.Broker;
using Notifications.Core.Clients;
using Notifications.Core.Contract;
using Notifications.Core.Topology;
using RabbitMQ.Client;

namespace Notifications.Core.Webhooks;

/// <summary>
/// Turns an outcome into a callback: a persistent message on <c>webhook.send</c>, confirmed by the broker before the
/// caller acks the job, so a crash never loses it. The worker's webhook sender POSTs it. Nothing is enqueued for a job
/// whose client has no webhook.
/// </summary>
public sealed class WebhookOutbox(ConfirmedPublisher publisher, ClientRegistry clients)
{
    public const string ContentType = "application/json";

    public bool Wants(string? client) => clients.Find(client)?.Webhook is not null;

    /// <exception cref="PublishFailedException">the broker did not confirm it: do not ack the job.</exception>
    public async Task EnqueueAsync(WebhookEvent outcome, CancellationToken cancellationToken)
    {
        if (clients.Find(outcome.Data.Client) is not { Webhook: not null } client)
            return;
        // Every callback of a test client says so: its receiver (a staging or CI endpoint) can tell it from live traffic.
        if (client.IsTest && outcome.Data.Test != true)
            outcome = outcome with { Data = outcome.Data with { Test = true } };
        var properties = new BasicProperties
        {
            MessageId = outcome.Id,
            Type = outcome.Type,
            ContentType = ContentType,
            DeliveryMode = DeliveryModes.Persistent,
            Timestamp = new AmqpTimestamp(outcome.Timestamp.ToUnixTimeSeconds()),
            Headers = new Dictionary<string, object?> { [JobHeaders.Client] = outcome.Data.Client },
        };
        await publisher.PublishAsync(TopologyNames.WebhookSendKey, properties, outcome.ToJson(), cancellationToken);
    }
}
