using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Notifications.Core.Bounces;
using Notifications.Core.Broker;
using Notifications.Core.Store;
using Notifications.Core.Telemetry;
using Notifications.Core.Topology;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using Notifications.Worker.Transport;

namespace Notifications.Worker.Bounces;

/// <summary>
/// Reads what came back to the return-path domain (<c>email.inbound</c>, published by the inbound receiver): read the
/// report (<see cref="ReportReader"/>) → find its job (the return path's token it came to, else one the returned mail
/// carries; each MAC verified) → record it (<see cref="BounceRecorder"/>) → ack. Auto-replies are counted and dropped;
/// what cannot be read or matched goes to <c>email.inbound.unparsed</c> with the reason, confirmed, before the ack. A
/// store or broker failure gives the message back; after <c>x-delivery-limit</c> tries the broker parks it there itself.
/// </summary>
public sealed partial class InboundConsumer(
    BrokerConnection broker,
    TopologyNames names,
    ConfirmedPublisher publisher,
    ReturnPath returnPath,
    Microsoft.Extensions.Options.IOptions<BouncesOptions> bounces,
    IJobStatuses statuses,
    BounceRecorder recorder,
    NotificationsTelemetry telemetry,
    TimeProvider clock,
    ILogger<InboundConsumer> logger) : BackgroundService
{
    private const ushort Prefetch = 8;
    private static readonly TimeSpan RetryPause = TimeSpan.FromSeconds(1);

    private QueueSubscription? _subscription;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!bounces.Value.Enabled)
        {
            logger.LogInformation("Bounces:Domain is not set: {Queue} is not consumed", names.InboundQueue);
            return;
        }
        var subscription = _subscription = new QueueSubscription(names.InboundQueue, Prefetch, HandleAsync);
        try
        {
            await subscription.ConsumeUntilStoppedAsync(broker, () => LogConsuming(names.InboundQueue), clock, logger, stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: what is in flight goes back to the queue when the channel closes.
        }
    }

    private async Task HandleAsync(BasicDeliverEventArgs delivery, IChannel channel)
    {
        try
        {
            var report = ReportReader.Read(delivery.Body.ToArray());
            var kind = report.Kind switch
            {
                ReportKind.DeliveryStatus => "delivery-status",
                ReportKind.Complaint => "complaint",
                ReportKind.AutoReply => "auto-reply",
                _ => "unreadable",
            };
            switch (report.Kind)
            {
                case ReportKind.AutoReply:
                    Count(kind, "dropped");
                    break;
                case ReportKind.Unreadable:
                    await ParkAsync(delivery, report.Why!);
                    Count(kind, "unparsed");
                    break;
                default:
                    if (await FindJobAsync(delivery, report) is not { } job)
                    {
                        await ParkAsync(delivery, "no job matches it: it came to no return path of ours that verifies, and the returned mail "
                            + "carries none (an Original-Envelope-Id or Message-ID alone proves nothing)");
                        Count(kind, "unmatched");
                        break;
                    }
                    await recorder.RecordAsync(job, report, CancellationToken.None);
                    Count(kind, "recorded");
                    break;
            }
            await channel.BasicAckAsync(delivery.DeliveryTag, false);
        }
        catch (Exception ex)
        {
            LogReturned(names.InboundQueue, ex.GetBaseException().Message);
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
    }

    /// <summary>
    /// The job by what the service itself signed: the return path the report came back to, else a return path the returned
    /// mail carries (a feedback loop's complaint to one fixed address). Its MAC must verify; an envelope id or Message-ID,
    /// which every recipient reads, proves nothing and is not looked at.
    /// </summary>
    private async Task<JobStatus?> FindJobAsync(BasicDeliverEventArgs delivery, InboundReport report)
    {
        var candidates = new List<string>();
        foreach (var rcpt in (HeaderValues.GetString(delivery.BasicProperties.Headers, InboundHeaders.Recipients) ?? "").Split(','))
            if (returnPath.TryReadJobId(rcpt.Trim(), out var id))
                candidates.Add(id);
        foreach (var token in report.ReturnedTokens ?? [])
            if (returnPath.TryReadJobId(token, out var id))
                candidates.Add(id);
        foreach (var id in candidates.Distinct(StringComparer.Ordinal))
            if (await statuses.GetStatusAsync(id, CancellationToken.None) is { } status)
                return status;
        return null;
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

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        if (_subscription is not null)
            await _subscription.DisposeAsync();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Reading bounces and complaints from {Queue}")]
    private partial void LogConsuming(string queue);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Inbound message {MessageId} kept in email.inbound.unparsed: {Reason}")]
    private partial void LogParked(string? messageId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Inbound message returned to {Queue} to be read again: {Reason}")]
    private partial void LogReturned(string queue, string reason);
}
