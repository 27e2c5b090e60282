using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Notifications.Core.Broker;
using Notifications.Core.Clients;
using Notifications.Core.Contract;
using Notifications.Core.Telemetry;
using Notifications.Core.Topology;
using Notifications.Core.Webhooks;
using Polly.CircuitBreaker;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace Notifications.Worker.Webhooks;

/// <summary>
/// Delivers callbacks: consumes <c>webhook.send</c> and POSTs each message, signed, to its client's endpoint. A 2xx is
/// delivered; any other answer, a timeout or a refused connection goes to the next retry queue (<c>Webhooks:Delays</c>),
/// then <c>webhook.dead</c>; <c>410 Gone</c> goes to <c>webhook.dead</c> at once. One endpoint cannot hold up another: at
/// most <c>Webhooks:ConcurrencyPerEndpoint</c> callbacks are in flight to its URL and twice as many may wait a second for a
/// free one; the rest wait in the broker (back through the first retry queue, costing no attempt), and the circuit of its
/// host (scheme, host, port) opens on its own when it keeps failing.
/// </summary>
public sealed class WebhookSender(
    BrokerConnection broker,
    TopologyNames names,
    ConfirmedPublisher publisher,
    ClientRegistry clients,
    IHttpClientFactory http,
    NotificationsTelemetry telemetry,
    TimeProvider clock,
    IOptions<WebhookOptions> options,
    ILogger<WebhookSender> logger) : BackgroundService
{
    public const string HttpClientName = "webhooks";
    public const string DeferredHeader = "x-webhook-deferred";
    private static readonly TimeSpan RetryInterval = TimeSpan.FromSeconds(2);

    private readonly WebhookOptions _options = options.Value;
    private static readonly TimeSpan WaitForSlot = TimeSpan.FromSeconds(1);
    private readonly ConcurrentDictionary<string, Endpoint> _endpoints = new(StringComparer.Ordinal);
    private readonly Channel<bool> _cancelled = Channel.CreateUnbounded<bool>();
    private IChannel? _channel;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!clients.All.Any(c => c.Webhook is not null))
        {
            logger.LogInformation("No client has a webhook: {Queue} is not consumed", names.WebhookSendQueue);
            return;
        }
        try
        {
            var connection = await broker.WhenConnectedAsync(stoppingToken);
            while (true)
            {
                try
                {
                    _channel ??= await connection.CreateChannelAsync(new CreateChannelOptions(false, false,
                        consumerDispatchConcurrency: (ushort)_options.Prefetch), stoppingToken);
                    await _channel.BasicQosAsync(0, (ushort)_options.Prefetch, false, stoppingToken);
                    await _channel.BasicConsumeAsync(names.WebhookSendQueue, autoAck: false, new Consumer(_channel, this), stoppingToken);
                    logger.LogInformation("Delivering webhooks from {Queue} (at most {Concurrency} in flight per endpoint)",
                        names.WebhookSendQueue, _options.ConcurrencyPerEndpoint);
                    await _cancelled.Reader.ReadAsync(stoppingToken); // the broker ended our consumer: subscribe again
                    await broker.RestoreTopologyAsync($"the broker cancelled our consumer of {names.WebhookSendQueue}", stoppingToken);
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                {
                    logger.LogError("Could not consume {Queue} ({Reason}); trying again in {Delay}", names.WebhookSendQueue,
                        ex.GetBaseException().Message, RetryInterval);
                    if (_channel is { IsOpen: false })
                        _channel = null;
                    await Task.Delay(RetryInterval, clock, stoppingToken);
                }
            }
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
                await ParkAsync(delivery, channel, dead: true, attempts, "no-endpoint",
                    $"client '{clientName}' has no Webhook:Url (any more); replay it once one is configured");
                return;
            }
            var endpoint = _endpoints.GetOrAdd(webhook.Url.AbsoluteUri, _ => new Endpoint(_options.ConcurrencyPerEndpoint));
            if (!await endpoint.EnterAsync(_options.ConcurrencyPerEndpoint * 2, WaitForSlot))
            {
                // The endpoint is slow or hanging: wait in the broker, not in a delivery other endpoints need.
                await DeferAsync(delivery, channel, attempts);
                return;
            }
            var slots = endpoint.Slots;
            try
            {
                var (delivered, gone, circuitOpen, error) = await PostAsync(webhook, id, delivery.Body);
                if (circuitOpen)
                {
                    // The endpoint's circuit is open: the receiver was not tried, so no attempt is spent. It waits on the
                    // ladder's first step and comes back; the first try after the break is the probe that closes the circuit.
                    logger.LogInformation("Webhook {WebhookId} of client {Client} waits: the circuit of {Endpoint} is open", id, clientName, webhook.Endpoint);
                    await DeferAsync(delivery, channel, attempts);
                    return;
                }
                if (delivered)
                {
                    telemetry.WebhooksSent.Add(1, Client(clientName));
                    if (delivery.BasicProperties.IsTimestampPresent())
                        telemetry.WebhookLatency.Record((clock.GetUtcNow() - DateTimeOffset.FromUnixTimeSeconds(delivery.BasicProperties.Timestamp.UnixTime))
                            .TotalSeconds, Client(clientName));
                    await channel.BasicAckAsync(delivery.DeliveryTag, false);
                    return;
                }
                telemetry.WebhooksFailed.Add(1, Client(clientName));
                var dead = gone || attempts + 1 > Math.Min(_options.Delays.Count, TopologyNames.WebhookRetryQueueCount);
                await ParkAsync(delivery, channel, dead, attempts + 1, gone ? "gone" : "failed", error);
            }
            finally
            {
                slots.Release();
            }
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

    /// <returns>
    /// whether a 2xx came; whether it was 410 Gone; whether the endpoint's circuit is open (the receiver was not
    /// asked); and otherwise what happened, on one line.
    /// </returns>
    private async Task<(bool Delivered, bool Gone, bool CircuitOpen, string Error)> PostAsync(ClientWebhook webhook, string id, ReadOnlyMemory<byte> body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, webhook.Url);
        request.Content = new ReadOnlyMemoryContent(body);
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(WebhookOutbox.ContentType);
        var now = clock.GetUtcNow();
        request.Headers.Add(WebhookSignature.IdHeader, id);
        request.Headers.Add(WebhookSignature.TimestampHeader, now.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture));
        request.Headers.Add(WebhookSignature.SignatureHeader, WebhookSignature.Sign(webhook.Key, id, now, body.Span));
        var started = Stopwatch.GetTimestamp();
        try
        {
            using var response = await http.CreateClient(HttpClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            var code = (int)response.StatusCode;
            if (code is >= 200 and < 300)
                return (true, false, false, "");
            return (false, response.StatusCode == HttpStatusCode.Gone, false, $"HTTP {code} from {webhook.Endpoint}");
        }
        catch (BrokenCircuitException)
        {
            return (false, false, true, "");
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or Polly.Timeout.TimeoutRejectedException or IOException)
        {
            var what = ex is TaskCanceledException or Polly.Timeout.TimeoutRejectedException
                ? $"no answer within {_options.Timeout.TotalSeconds:0.#} s (Webhooks:Timeout)"
                : ex.GetBaseException().Message;
            return (false, false, false, JobCodec.OneLine($"{webhook.Endpoint}: {what} after {Stopwatch.GetElapsedTime(started).TotalMilliseconds:0} ms"));
        }
    }

    /// <summary>To the retry queue of its attempt, or <c>webhook.dead</c>; the original is acked only once the copy is confirmed.</summary>
    private async Task ParkAsync(BasicDeliverEventArgs delivery, IChannel channel, bool dead, int attempts, string kind, string error)
    {
        var properties = JobProperties.CopyOf(delivery.BasicProperties);
        properties.ContentType = WebhookOutbox.ContentType;
        properties.Type = delivery.BasicProperties.Type;
        var headers = properties.Headers!;
        headers.Remove(DeferredHeader);
        JobProperties.RecordFailure(headers, attempts, error, kind, clock.GetUtcNow());
        var routingKey = dead ? TopologyNames.WebhookDeadKey : TopologyNames.WebhookRetryKey(attempts);
        if (!dead)
            properties.Expiration = ((long)_options.Delays[attempts - 1].TotalMilliseconds).ToString(CultureInfo.InvariantCulture);
        await publisher.PublishAsync(routingKey, properties, delivery.Body, CancellationToken.None);
        await channel.BasicAckAsync(delivery.DeliveryTag, false);
        var client = HeaderValues.GetString(delivery.BasicProperties.Headers, JobHeaders.Client);
        if (dead)
        {
            telemetry.WebhooksDead.Add(1, Client(client));
            logger.LogWarning("Webhook {WebhookId} of client {Client} dead-lettered to {Queue} after {Attempts} attempt(s) as {FailureKind}: {Error}",
                delivery.BasicProperties.MessageId, client, names.WebhookDeadQueue, attempts, kind, error);
        }
        else
        {
            logger.LogInformation("Webhook {WebhookId} of client {Client} failed attempt {Attempt} ({Error}); retry in {Delay}",
                delivery.BasicProperties.MessageId, client, attempts, error, _options.Delays[attempts - 1]);
        }
    }

    /// <summary>Back through the first retry queue without spending an attempt: its endpoint had no free slot, or its circuit is open.</summary>
    private async Task DeferAsync(BasicDeliverEventArgs delivery, IChannel channel, int attempts)
    {
        var properties = JobProperties.CopyOf(delivery.BasicProperties);
        properties.ContentType = WebhookOutbox.ContentType;
        properties.Type = delivery.BasicProperties.Type;
        properties.Headers![DeferredHeader] = HeaderValues.GetInt(delivery.BasicProperties.Headers, DeferredHeader) + 1;
        properties.Headers[JobHeaders.Attempts] = attempts;
        properties.Expiration = ((long)_options.Delays[0].TotalMilliseconds).ToString(CultureInfo.InvariantCulture);
        await publisher.PublishAsync(TopologyNames.WebhookRetryKey(1), properties, delivery.Body, CancellationToken.None);
        await channel.BasicAckAsync(delivery.DeliveryTag, false);
    }

    private static KeyValuePair<string, object?> Client(string? client) => new("client", client ?? "");

    /// <summary>One URL's slots, and how many deliveries wait for one: a few may wait a moment, the rest go back to the broker.</summary>
    private sealed class Endpoint(int slots)
    {
        private int _waiting;

        public SemaphoreSlim Slots { get; } = new(slots);

        public async Task<bool> EnterAsync(int maxWaiting, TimeSpan patience)
        {
            if (Slots.Wait(0))
                return true;
            if (Interlocked.Increment(ref _waiting) > maxWaiting)
            {
                Interlocked.Decrement(ref _waiting);
                return false;
            }
            try
            {
                return await Slots.WaitAsync(patience);
            }
            finally
            {
                Interlocked.Decrement(ref _waiting);
            }
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        if (_channel is not null)
            await _channel.DisposeAsync();
    }

    private sealed class Consumer(IChannel channel, WebhookSender owner) : AsyncDefaultBasicConsumer(channel)
    {
        public override Task HandleBasicDeliverAsync(string consumerTag, ulong deliveryTag, bool redelivered, string exchange,
            string routingKey, IReadOnlyBasicProperties properties, ReadOnlyMemory<byte> body, CancellationToken cancellationToken = default) =>
            owner.HandleAsync(new BasicDeliverEventArgs(consumerTag, deliveryTag, redelivered, exchange, routingKey, properties, body,
                cancellationToken), Channel);

        public override async Task HandleBasicCancelAsync(string consumerTag, CancellationToken cancellationToken = default)
        {
            await base.HandleBasicCancelAsync(consumerTag, cancellationToken);
            owner._cancelled.Writer.TryWrite(true);
        }
    }
}
