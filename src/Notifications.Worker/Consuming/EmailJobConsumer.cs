using System.Diagnostics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Notifications.Core.Broker;
using Notifications.Core.Telemetry;
using Notifications.Core.Topology;
using Notifications.Worker.Sending;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using Serilog.Context;

namespace Notifications.Worker.Consuming;

/// <summary>
/// Consumes <c>email.send</c> with manual acks, prefetch and concurrency from configuration. It stops
/// consuming during a long relay outage and starts again when the relay answers. On shutdown it
/// cancels the subscription and lets the deliveries it already has finish within the grace period.
/// </summary>
public sealed class EmailJobConsumer(
    BrokerConnection broker,
    TopologyNames names,
    JobHandler handler,
    SmtpRelay relay,
    RelayOutage outage,
    NotificationsTelemetry telemetry,
    IOptions<RabbitMqOptions> rabbitOptions,
    IOptions<SmtpOptions> smtpOptions,
    ILogger<EmailJobConsumer> logger) : BackgroundService
{
    private static readonly TimeSpan StopPollInterval = TimeSpan.FromMilliseconds(25);

    private readonly RabbitMqOptions _options = rabbitOptions.Value;
    // Cancelled only once the grace period is over, so sends in flight at shutdown can finish.
    private readonly CancellationTokenSource _sendsAborted = new();
    private readonly SemaphoreSlim _subscription = new(1, 1);
    private CancellationToken _stopping;
    private IChannel? _channel;
    private string? _consumerTag;
    private int _inFlight;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _stopping = stoppingToken;
        var connection = await broker.WhenConnectedAsync(stoppingToken);
        _channel = await connection.CreateChannelAsync(
            new CreateChannelOptions(publisherConfirmationsEnabled: false, publisherConfirmationTrackingEnabled: false,
                consumerDispatchConcurrency: (ushort)_options.Concurrency),
            stoppingToken);
        await _channel.BasicQosAsync(prefetchSize: 0, prefetchCount: (ushort)_options.Prefetch, global: false, stoppingToken);
        await SubscribeAsync(stoppingToken);
    }

    private async Task SubscribeAsync(CancellationToken cancellationToken)
    {
        var consumer = new AsyncEventingBasicConsumer(_channel!);
        consumer.ReceivedAsync += (_, args) => HandleAsync(args);
        _consumerTag = await _channel!.BasicConsumeAsync(names.SendQueue, autoAck: false, consumer, cancellationToken);
        logger.LogInformation("Consuming {Queue} (prefetch {Prefetch}, concurrency {Concurrency})",
            names.SendQueue, _options.Prefetch, _options.Concurrency);
    }

    private async Task UnsubscribeAsync(CancellationToken cancellationToken)
    {
        if (_channel is { IsOpen: true } channel && _consumerTag is { } tag)
        {
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
    }

    private async Task HandleAsync(BasicDeliverEventArgs args)
    {
        Interlocked.Increment(ref _inFlight);
        var delivery = new Delivery(args, _channel!, logger);
        using var jobScope = LogContext.PushProperty("JobId", delivery.JobId);
        using var attemptScope = LogContext.PushProperty("Attempt", delivery.PreviousAttempts + 1);
        using var queueScope = LogContext.PushProperty("Queue", names.SendQueue);
        // A child of the span that published the job: every attempt of a job, retries included, is one trace.
        using var activity = NotificationsTelemetry.Source.StartActivity($"{TopologyNames.SendKey} process", ActivityKind.Consumer,
            TraceContext.Extract(args.BasicProperties.Headers));
        activity?.SetTag("messaging.system", "rabbitmq").SetTag("messaging.destination.name", names.SendQueue)
            .SetTag("messaging.message.id", delivery.JobId).SetTag("notifications.attempt", delivery.PreviousAttempts + 1);
        telemetry.Consumed.Add(1, NotificationsTelemetry.RabbitMq, NotificationsTelemetry.Destination(names.SendQueue));
        var started = Stopwatch.GetTimestamp();
        try
        {
            await handler.HandleAsync(delivery, _sendsAborted.Token);
            telemetry.ProcessDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds,
                NotificationsTelemetry.RabbitMq, NotificationsTelemetry.Destination(names.SendQueue));
            if (outage.IsPaused)
                await PauseAsync();
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }

    /// <summary>The relay has been down longer than Smtp:OutageHold: stop consuming until it answers a probe.</summary>
    private async Task PauseAsync()
    {
        await _subscription.WaitAsync();
        try
        {
            if (_consumerTag is null)
                return;
            logger.LogWarning("SMTP relay down for more than {OutageHold}: stopped consuming {Queue}; held jobs returned without spending an attempt",
                smtpOptions.Value.OutageHold, names.SendQueue);
            await UnsubscribeAsync(CancellationToken.None);
        }
        finally
        {
            _subscription.Release();
        }
        _ = ResumeWhenRelayAnswersAsync();
    }

    private async Task ResumeWhenRelayAnswersAsync()
    {
        try
        {
            while (!_stopping.IsCancellationRequested)
            {
                await Task.Delay(relay.BreakDuration, _stopping);
                if (!await relay.ProbeAsync(_stopping))
                    continue;
                await _subscription.WaitAsync(_stopping);
                try
                {
                    outage.Ended();
                    await SubscribeAsync(_stopping);
                }
                finally
                {
                    _subscription.Release();
                }
                logger.LogInformation("SMTP relay answers again: consuming {Queue} again", names.SendQueue);
                return;
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            // Shutting down while paused.
        }
        catch (Exception ex) when (BrokerConnection.IsBrokerUnavailable(ex))
        {
            logger.LogError("Could not resume consuming ({Reason}); restart the worker", ex.Message);
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await _subscription.WaitAsync(cancellationToken);
        try
        {
            await UnsubscribeAsync(cancellationToken);
        }
        finally
        {
            _subscription.Release();
        }
        // Finish what was already delivered (sends in flight and prefetched ones), until the host's shutdown timeout runs out.
        while (Volatile.Read(ref _inFlight) > 0 && !cancellationToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(StopPollInterval, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
        await _sendsAborted.CancelAsync();
        await base.StopAsync(cancellationToken);
        if (_channel is not null)
            await _channel.DisposeAsync(); // anything still unacked goes back to the queue
    }

    public override void Dispose()
    {
        _sendsAborted.Dispose();
        _subscription.Dispose();
        base.Dispose();
    }
}
