using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Notifications.Core.Broker;
using Notifications.Core.Telemetry;
using Notifications.Core.Topology;
using Notifications.Worker.Sending;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using Notifications.Worker.Transport;

namespace Notifications.Worker.Consuming;

/// <summary>
/// Consumes both lanes, <c>email.send.high</c> and <c>email.send</c>, each on its own channel with manual acks and the
/// configured prefetch; the <c>RabbitMq:Concurrency</c> sending slots are shared through the handler's
/// <see cref="LaneGate"/>, which serves the high lane first. One supervising loop owns the subscriptions: it stops consuming during a long relay
/// outage and starts again when the relay answers, and subscribes again when the broker cancels a consumer (someone
/// deleted the queue). On shutdown it stops that loop first, cancels the subscriptions, and lets the deliveries it has
/// finish within the grace period.
/// </summary>
public sealed class EmailJobConsumer(
    BrokerConnection broker,
    TopologyNames names,
    JobHandler handler,
    SmtpRelay relay,
    RelayOutage outage,
    NotificationsTelemetry telemetry,
    TimeProvider clock,
    IOptions<RabbitMqOptions> rabbitOptions,
    IOptions<SmtpOptions> smtpOptions,
    ILogger<EmailJobConsumer> logger) : BackgroundService
{
    private static readonly TimeSpan RetryInterval = TimeSpan.FromSeconds(2);
    // After the grace period, how long aborted sends get to hand their deliveries back before the channel closes.
    private static readonly TimeSpan AbortSettleTime = TimeSpan.FromSeconds(2);

    private readonly RabbitMqOptions _options = rabbitOptions.Value;
    private readonly Channel<Trouble> _trouble = Channel.CreateUnbounded<Trouble>(new UnboundedChannelOptions { SingleReader = true });
    // Cancelled only once the grace period is over, so sends in flight at shutdown can finish.
    private readonly CancellationTokenSource _sendsAborted = new();
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private IReadOnlyList<QueueSubscription> _lanes = [];
    private CancellationToken _stopping = new(canceled: true);
    private int _inFlight;
    private int _pauseAsked;
    private volatile bool _draining;

    private enum Trouble
    {
        RelayDown,
        ConsumerCancelledByBroker,
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _stopping = stoppingToken;
        // High first: it is subscribed first and its deliveries get the sending slots first (LaneGate).
        _lanes = [.. Lanes.All.Select(lane => new QueueSubscription(names.WorkQueue(lane), (ushort)_options.Prefetch,
            (args, channel) => HandleAsync(args, channel, lane), OnCancelledByBroker))];
        try
        {
            var connection = await broker.WhenConnectedAsync(stoppingToken);
            foreach (var lane in _lanes)
                await UntilDoneAsync("open the consuming channel of " + lane.Queue, ct => lane.OpenAsync(connection, ct), stoppingToken);
            await UntilDoneAsync("subscribe to " + names.HighQueue + " and " + names.SendQueue, SubscribeAsync, stoppingToken);

            await foreach (var trouble in _trouble.Reader.ReadAllAsync(stoppingToken))
            {
                if (trouble == Trouble.RelayDown)
                    await PauseUntilRelayAnswersAsync(stoppingToken);
                else
                    await UntilDoneAsync("consume every lane again", async ct =>
                    {
                        await broker.RestoreTopologyAsync("the broker cancelled one of our consumers", ct);
                        await SubscribeAsync(ct);
                    }, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    private void OnCancelledByBroker(QueueSubscription lane)
    {
        logger.LogError("The broker cancelled our consumer of {Queue}: the queue was deleted or its node went away", lane.Queue);
        _trouble.Writer.TryWrite(Trouble.ConsumerCancelledByBroker);
    }

    private Task UntilDoneAsync(string what, Func<CancellationToken, Task> step, CancellationToken stoppingToken) =>
        QueueSubscription.UntilDoneAsync(what, step, RetryInterval, clock, logger, stoppingToken);

    /// <summary>Subscribes every lane that has no consumer (high first); a lane already consumed is left as it is.</summary>
    private async Task SubscribeAsync(CancellationToken cancellationToken)
    {
        foreach (var lane in _lanes)
        {
            if (lane.IsConsuming || !await lane.SubscribeAsync(cancellationToken))
                continue;
            logger.LogInformation("Consuming {Queue} (prefetch {Prefetch}, {Concurrency} sending slots shared by both lanes, high first)",
                lane.Queue, _options.Prefetch, _options.Concurrency);
        }
    }

    private async Task UnsubscribeAsync(CancellationToken cancellationToken)
    {
        foreach (var lane in _lanes)
            await lane.UnsubscribeAsync(cancellationToken);
    }

    private async Task HandleAsync(BasicDeliverEventArgs args, IChannel channel, Lane lane)
    {
        Interlocked.Increment(ref _inFlight);
        var delivery = new Delivery(args, channel, lane, logger);
        var queue = names.WorkQueue(lane);
        using var scope = logger.BeginScope(new JobLogScope(delivery.JobId, delivery.Client, delivery.PreviousAttempts + 1, queue));
        // A child of the span that published the job: every attempt of a job, retries included, is one trace.
        using var activity = NotificationsTelemetry.Source.StartActivity($"{TopologyNames.SendKey} process", ActivityKind.Consumer,
            TraceContext.Extract(args.BasicProperties.Headers));
        activity?.SetTag("messaging.system", "rabbitmq").SetTag("messaging.destination.name", queue)
            .SetTag("messaging.message.id", delivery.JobId).SetTag("notifications.attempt", delivery.PreviousAttempts + 1);
        telemetry.Consumed.Add(1, NotificationsTelemetry.RabbitMq, NotificationsTelemetry.Destination(queue));
        var started = clock.GetTimestamp();
        try
        {
            await handler.HandleAsync(delivery, _stopping, _sendsAborted.Token);
            telemetry.ProcessDuration.Record(clock.GetElapsedTime(started).TotalSeconds,
                NotificationsTelemetry.RabbitMq, NotificationsTelemetry.Destination(queue));
            if (outage.IsPaused && Interlocked.Exchange(ref _pauseAsked, 1) == 0)
                _trouble.Writer.TryWrite(Trouble.RelayDown);
        }
        catch (Exception ex)
        {
            // Every delivery ends settled: whatever escaped the handler returns the job rather than leave it unacked.
            if (!delivery.IsSettled)
                logger.LogError(ex, "Handling job {JobId} failed unexpectedly; returning it to {Queue}", delivery.JobId, queue);
            await ReturnQuietlyAsync(delivery);
        }
        finally
        {
            if (Interlocked.Decrement(ref _inFlight) == 0 && _draining)
                _drained.TrySetResult();
        }
    }

    private async Task ReturnQuietlyAsync(Delivery delivery)
    {
        try
        {
            await delivery.ReturnAsync();
        }
        catch (Exception ex)
        {
            logger.LogWarning("Could not return job {JobId} ({Reason}); the broker requeues it when the channel closes", delivery.JobId, ex.Message);
        }
    }

    /// <summary>The relay has been down longer than Smtp:OutageHold: stop consuming until it answers a probe.</summary>
    private async Task PauseUntilRelayAnswersAsync(CancellationToken stoppingToken)
    {
        logger.LogWarning("SMTP relay down for more than {OutageHold}: stopped consuming {Queue} and {HighQueue}; held jobs returned without spending an attempt",
            smtpOptions.Value.OutageHold, names.SendQueue, names.HighQueue);
        await UntilDoneAsync("stop consuming", UnsubscribeAsync, stoppingToken);
        while (true)
        {
            await Task.Delay(relay.BreakDuration, clock, stoppingToken);
            if (await relay.ProbeAsync(stoppingToken))
                break;
        }
        outage.Ended();
        Interlocked.Exchange(ref _pauseAsked, 0);
        await UntilDoneAsync("consume again", SubscribeAsync, stoppingToken);
        logger.LogInformation("SMTP relay answers again: consuming {Queue} and {HighQueue} again", names.SendQueue, names.HighQueue);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        // The supervising loop first, so nothing subscribes again while the deliveries drain.
        await base.StopAsync(cancellationToken);
        try
        {
            await UnsubscribeAsync(cancellationToken);
            // Finish what was already delivered (sends in flight and prefetched ones), until the host's shutdown timeout runs out.
            _draining = true;
            if (Volatile.Read(ref _inFlight) == 0)
                _drained.TrySetResult();
            await _drained.Task.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            logger.LogWarning("Shutdown grace period over with {InFlight} deliveries still in flight; abandoning their sends", Volatile.Read(ref _inFlight));
        }
        await _sendsAborted.CancelAsync();
        try
        {
            await _drained.Task.WaitAsync(AbortSettleTime, clock);
        }
        catch (TimeoutException)
        {
            // Whatever is still unsettled goes back to the queue when the channel closes.
        }
        foreach (var lane in _lanes)
            await lane.DisposeAsync();
    }

    public override void Dispose()
    {
        _sendsAborted.Dispose();
        base.Dispose();
    }
}
