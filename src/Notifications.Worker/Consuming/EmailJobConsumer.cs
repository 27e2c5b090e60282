using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Notifications.Core.Broker;
using Notifications.Core.Contract;
using Notifications.Core.Topology;
using Notifications.Core.Validation;
using Notifications.Worker.Retrying;
using Notifications.Worker.Sending;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using Serilog.Context;

namespace Notifications.Worker.Consuming;

/// <summary>
/// Consumes <c>email.send</c> with manual acks. A delivery is acked only when the relay accepted the
/// mail, or when its copy in a retry queue or the DLQ was confirmed by the broker.
/// </summary>
public sealed class EmailJobConsumer(
    BrokerConnection broker,
    TopologyNames names,
    ConfirmedPublisher publisher,
    SmtpRelay relay,
    RetryRouter router,
    EmailJobValidator validator,
    IOptions<RabbitMqOptions> rabbitOptions,
    ILogger<EmailJobConsumer> logger) : BackgroundService
{
    private static readonly TimeSpan ParkFailureBackoff = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan StopPollInterval = TimeSpan.FromMilliseconds(25);

    private readonly RabbitMqOptions _options = rabbitOptions.Value;
    // Cancelled only once the grace period is over, so sends in flight at shutdown can finish.
    private readonly CancellationTokenSource _sendsAborted = new();
    private IChannel? _channel;
    private string? _consumerTag;
    private int _inFlight;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var connection = await broker.WhenConnectedAsync(stoppingToken);
        _channel = await connection.CreateChannelAsync(
            new CreateChannelOptions(publisherConfirmationsEnabled: false, publisherConfirmationTrackingEnabled: false,
                consumerDispatchConcurrency: (ushort)_options.Concurrency),
            stoppingToken);
        await _channel.BasicQosAsync(prefetchSize: 0, prefetchCount: (ushort)_options.Prefetch, global: false, stoppingToken);

        var consumer = new AsyncEventingBasicConsumer(_channel);
        consumer.ReceivedAsync += (_, delivery) => HandleAsync(delivery);
        _consumerTag = await _channel.BasicConsumeAsync(names.SendQueue, autoAck: false, consumer, stoppingToken);
        logger.LogInformation("Consuming {Queue} (prefetch {Prefetch}, concurrency {Concurrency})",
            names.SendQueue, _options.Prefetch, _options.Concurrency);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_channel is { IsOpen: true } channel && _consumerTag is not null)
        {
            try
            {
                await channel.BasicCancelAsync(_consumerTag, noWait: false, cancellationToken);
            }
            catch (Exception ex) when (BrokerConnection.IsBrokerUnavailable(ex))
            {
                // The broker is gone; it returns our unacked deliveries by itself.
            }
        }
        // Let the sends in flight finish and be acked, until the host's shutdown timeout runs out.
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
            await _channel.DisposeAsync();
    }

    public override void Dispose()
    {
        _sendsAborted.Dispose();
        base.Dispose();
    }

    private async Task HandleAsync(BasicDeliverEventArgs delivery)
    {
        Interlocked.Increment(ref _inFlight);
        var previousAttempts = HeaderValues.GetInt(delivery.BasicProperties.Headers, JobHeaders.Attempts);
        using var jobScope = LogContext.PushProperty("JobId", delivery.BasicProperties.MessageId ?? "(none)");
        using var attemptScope = LogContext.PushProperty("Attempt", previousAttempts + 1);
        try
        {
            await ProcessAsync(delivery, previousAttempts);
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }

    private async Task ProcessAsync(BasicDeliverEventArgs delivery, int previousAttempts)
    {
        if (!JobCodec.TryDecode(delivery.Body.Span, out var job, out var decodeError))
        {
            await ParkAsync(delivery, router.Decide(FailureKind.Poison, previousAttempts), decodeError!);
            return;
        }
        var errors = validator.ValidateJob(job!);
        if (errors.Count > 0)
        {
            var summary = string.Join("; ", errors.Select(e => $"{e.Key}: {string.Join(", ", e.Value)}"));
            await ParkAsync(delivery, router.Decide(FailureKind.Poison, previousAttempts), "not a valid job: " + summary);
            return;
        }

        try
        {
            var message = MimeMessageFactory.Build(job!);
            var reply = await relay.SendAsync(message, _sendsAborted.Token);
            await AckAsync(delivery);
            logger.LogInformation("Sent job {JobId} attempt {Attempt} to {RecipientCount} recipients: {Reply}",
                job!.Id, previousAttempts + 1, job.AllRecipients().Count(), reply);
        }
        catch (OperationCanceledException) when (_sendsAborted.IsCancellationRequested)
        {
            // Shutting down past the grace period: not the job's failure. The broker gets it back and hands it out again.
            logger.LogWarning("Send of job {JobId} aborted by shutdown; returning it to {Queue}", job!.Id, names.SendQueue);
            await ReturnAsync(delivery);
        }
        catch (Exception ex)
        {
            var decision = router.Decide(SmtpFailure.Classify(ex), previousAttempts);
            await ParkAsync(delivery, decision, SmtpFailure.Describe(ex));
        }
    }

    /// <summary>Publishes the failed job to its retry queue or the DLQ with its history, then acks the original.</summary>
    private async Task ParkAsync(BasicDeliverEventArgs delivery, RetryDecision decision, string error)
    {
        var now = DateTimeOffset.UtcNow.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'");
        var properties = JobProperties.CopyOf(delivery.BasicProperties);
        var headers = properties.Headers!;
        headers[JobHeaders.Attempts] = decision.Attempts;
        headers[JobHeaders.LastError] = error;
        headers[JobHeaders.FailureKind] = decision.Kind.ToWire();
        headers[JobHeaders.FirstFailedAt] = HeaderValues.GetString(headers, JobHeaders.FirstFailedAt) ?? now;
        headers[JobHeaders.LastFailedAt] = now;
        if (decision.Delay is { } delay)
            properties.Expiration = ((long)delay.TotalMilliseconds).ToString(System.Globalization.CultureInfo.InvariantCulture);

        try
        {
            // Ack only after this copy is confirmed, or a crash in between loses the job.
            await publisher.PublishAsync(decision.RoutingKey, properties, delivery.Body, CancellationToken.None);
        }
        catch (PublishFailedException ex)
        {
            logger.LogError("Could not move job {JobId} to {Destination} ({Reason}); returning it to {Queue}",
                delivery.BasicProperties.MessageId, decision.RoutingKey, ex.Message, names.SendQueue);
            await Task.Delay(ParkFailureBackoff);
            await ReturnAsync(delivery);
            return;
        }
        await AckAsync(delivery);

        if (decision.IsDeadLetter)
            logger.LogWarning("Dead-lettered job {JobId} after {Attempts} attempts as {FailureKind}: {Error}",
                delivery.BasicProperties.MessageId, decision.Attempts, decision.Kind.ToWire(), error);
        else
            logger.LogInformation("Job {JobId} failed attempt {Attempt} ({Error}); retry via {RetryQueue} in {Delay}",
                delivery.BasicProperties.MessageId, decision.Attempts, error, decision.RoutingKey, decision.Delay);
    }

    private async Task AckAsync(BasicDeliverEventArgs delivery)
    {
        try
        {
            await _channel!.BasicAckAsync(delivery.DeliveryTag, multiple: false);
        }
        catch (Exception ex) when (BrokerConnection.IsBrokerUnavailable(ex))
        {
            // The broker hands the job out again; at-least-once means it may be sent twice.
            logger.LogWarning("Ack of job {JobId} lost with the channel ({Reason}); it will be delivered again",
                delivery.BasicProperties.MessageId, ex.Message);
        }
    }

    private async Task ReturnAsync(BasicDeliverEventArgs delivery)
    {
        try
        {
            await _channel!.BasicNackAsync(delivery.DeliveryTag, multiple: false, requeue: true);
        }
        catch (Exception ex) when (BrokerConnection.IsBrokerUnavailable(ex))
        {
            logger.LogDebug("Channel already gone ({Reason}); the broker requeues job {JobId} by itself",
                ex.Message, delivery.BasicProperties.MessageId);
        }
    }
}
