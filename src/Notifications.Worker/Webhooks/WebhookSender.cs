using System.Collections.Concurrent;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Notifications.Core.Broker;
using Notifications.Core.Clients;
using Notifications.Core.Contract;
using Notifications.Core.Telemetry;
using Notifications.Core.Topology;
using Notifications.Core.Webhooks;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using Notifications.Worker.Transport;

namespace Notifications.Worker.Webhooks;

/// <summary>
/// Delivers callbacks, in the email path's shape (transport → steps → settlement): consumes <c>webhook.send</c> and, per
/// message, finds its client's endpoint → waits for a slot of it → builds, signs and posts the POST
/// (<see cref="WebhookRequests"/>, <see cref="WebhookPoster"/>) → settles what came of it (<see cref="WebhookSettlement"/>).
/// A 2xx is delivered; any other answer, a timeout or a refused connection goes to the next retry queue
/// (<c>Webhooks:Delays</c>), then <c>webhook.dead</c>; <c>410 Gone</c> goes to <c>webhook.dead</c> at once. One
/// endpoint cannot hold up another: at most <c>Webhooks:ConcurrencyPerEndpoint</c> callbacks are in flight to its URL; the
/// others wait a second at most for a free slot, and once one waited in vain (the endpoint is slow) only twice as many may
/// wait and the rest wait in the broker (back through the first retry queue, costing no attempt); the circuit of its
/// host (scheme, host, port) opens on its own when it keeps failing.
/// </summary>
public sealed class WebhookSender(
    BrokerConnection broker,
    TopologyNames names,
    ClientRegistry clients,
    WebhookPoster poster,
    WebhookSettlement settlement,
    TimeProvider clock,
    IOptions<WebhookOptions> options,
    ILogger<WebhookSender> logger) : BackgroundService
{
    private static readonly TimeSpan WaitForSlot = TimeSpan.FromSeconds(1);

    private readonly WebhookOptions _options = options.Value;
    private readonly ConcurrentDictionary<string, WebhookEndpoint> _endpoints = new(StringComparer.Ordinal);
    private QueueSubscription? _subscription;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!clients.All.Any(c => c.Webhook is not null))
        {
            logger.LogInformation("No client has a webhook: {Queue} is not consumed", names.WebhookSendQueue);
            return;
        }
        var subscription = _subscription = new QueueSubscription(names.WebhookSendQueue, (ushort)_options.Prefetch, HandleAsync);
        try
        {
            await subscription.ConsumeUntilStoppedAsync(broker, () => logger.LogInformation(
                "Delivering webhooks from {Queue} (at most {Concurrency} in flight per endpoint)", names.WebhookSendQueue, _options.ConcurrencyPerEndpoint),
                clock, logger, stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: what is in flight goes back to the queue when the channel closes.
        }
    }

    private async Task HandleAsync(BasicDeliverEventArgs delivery, IChannel channel)
    {
        var id = delivery.BasicProperties.MessageId ?? "(none)";
        var clientName = HeaderValues.GetString(delivery.BasicProperties.Headers, JobHeaders.Client);
        var attempts = HeaderValues.GetInt(delivery.BasicProperties.Headers, JobHeaders.Attempts);
        try
        {
            if (clients.Find(clientName)?.Webhook is not { } webhook)
            {
                await settlement.ParkAsync(delivery, channel, dead: true, attempts, "no-endpoint",
                    $"client '{clientName}' has no Webhook:Url (any more); replay it once one is configured");
                return;
            }
            var endpoint = _endpoints.GetOrAdd(webhook.Url.AbsoluteUri, _ => new WebhookEndpoint(_options.ConcurrencyPerEndpoint));
            if (!await endpoint.EnterAsync(_options.ConcurrencyPerEndpoint * 2, WaitForSlot))
            {
                // The endpoint is slow or hanging: wait in the broker, not in a delivery other endpoints need.
                await settlement.DeferAsync(delivery, channel, attempts);
                return;
            }
            PostResult posted;
            try
            {
                posted = await poster.PostAsync(webhook, id, delivery.Body);
            }
            finally
            {
                endpoint.Slots.Release();
            }
            await settlement.SettleAsync(delivery, channel, posted, attempts, clientName, webhook.Endpoint);
        }
        catch (Exception ex)
        {
            // Whatever else went wrong (the broker refused a copy): give it back; it comes again.
            logger.LogWarning("Webhook {WebhookId} returned to {Queue}: {Reason}", id, names.WebhookSendQueue, ex.GetBaseException().Message);
            try
            {
                await channel.BasicNackAsync(delivery.DeliveryTag, false, requeue: true);
            }
            catch (Exception nack) when (BrokerConnection.IsBrokerUnavailable(nack) || nack is ObjectDisposedException)
            {
                // The channel is gone: the broker requeues it by itself.
            }
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        if (_subscription is not null)
            await _subscription.DisposeAsync();
    }
}
