using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Notifications.Core.Broker;
using Notifications.Core.MessageLog;
using Notifications.Core.Telemetry;
using Notifications.Core.Topology;
using Notifications.Worker.Transport;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace Notifications.Worker.MessageLog;

/// <summary>
/// Writes the message log: consumes <c>message.log</c> (at most <c>MessageLog:BatchSize</c> unacked), gathers what arrived
/// into one write, and acks each message only once its write committed. A store that fails is tried again with a growing
/// pause while the batch is held (the log falls behind; no mail waits for it); what cannot be read is dropped and counted.
/// </summary>
public sealed partial class MessageLogWriter(
    BrokerConnection broker,
    TopologyNames names,
    IMessageLog log,
    NotificationsTelemetry telemetry,
    IOptions<MessageLogOptions> options,
    TimeProvider clock,
    ILogger<MessageLogWriter> logger) : BackgroundService
{
    private static readonly TimeSpan FirstPause = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan LongestPause = TimeSpan.FromSeconds(30);

    private readonly int _batchSize = options.Value.BatchSize;
    private readonly Channel<Arrived> _arrived = Channel.CreateUnbounded<Arrived>(new UnboundedChannelOptions { SingleReader = true });
    private QueueSubscription? _subscription;

    private sealed record Arrived(IChannel Channel, ulong Tag, IReadOnlyList<LogEntry> Entries);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.Enabled)
        {
            logger.LogInformation("MessageLog:Enabled is false: {Queue} is not consumed", names.MessageLogQueue);
            return;
        }
        var subscription = _subscription = new QueueSubscription(names.MessageLogQueue, (ushort)Math.Min(_batchSize, ushort.MaxValue), HandleAsync);
        var consuming = subscription.ConsumeUntilStoppedAsync(broker, () => LogConsuming(names.MessageLogQueue, log.Describe()), clock, logger, stoppingToken);
        try
        {
            await Task.WhenAll(consuming, WriteLoopAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: what is not written stays unacked and goes back to the queue when the channel closes.
        }
    }

    /// <summary>Decodes (the body is the client library's only during this call) and hands over to the write loop.</summary>
    private async Task HandleAsync(BasicDeliverEventArgs delivery, IChannel channel)
    {
        IReadOnlyList<LogEntry> entries;
        try
        {
            entries = LogEntry.Decode(delivery.Body.Span);
        }
        catch (System.Text.Json.JsonException ex)
        {
            telemetry.LogEntriesDropped.Add(1, new KeyValuePair<string, object?>("reason", "unreadable"));
            LogUnreadable(delivery.BasicProperties.MessageId, ex.Message);
            await channel.BasicAckAsync(delivery.DeliveryTag, false);
            return;
        }
        await _arrived.Writer.WriteAsync(new Arrived(channel, delivery.DeliveryTag, entries));
    }

    private async Task WriteLoopAsync(CancellationToken stoppingToken)
    {
        var batch = new List<Arrived>(_batchSize);
        while (await _arrived.Reader.WaitToReadAsync(stoppingToken))
        {
            batch.Clear();
            var entries = new List<LogEntry>();
            while (entries.Count < _batchSize && _arrived.Reader.TryRead(out var arrived))
            {
                batch.Add(arrived);
                entries.AddRange(arrived.Entries);
            }
            await WriteUntilDoneAsync(entries, stoppingToken);
            telemetry.LogEntriesWritten.Add(entries.Count);
            foreach (var arrived in batch)
            {
                try
                {
                    await arrived.Channel.BasicAckAsync(arrived.Tag, false, CancellationToken.None);
                }
                catch (Exception ex) when (BrokerConnection.IsBrokerUnavailable(ex) || ex is ObjectDisposedException)
                {
                    // The channel is gone: the broker delivers it again, and the store writes each entry once.
                }
            }
        }
    }

    private async Task WriteUntilDoneAsync(List<LogEntry> entries, CancellationToken stoppingToken)
    {
        var pause = FirstPause;
        while (true)
        {
            try
            {
                await log.WriteAsync(entries, stoppingToken);
                return;
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested && ex is not OperationCanceledException)
            {
                LogWriteFailed(entries.Count, log.Describe(), ex.GetBaseException().Message, pause);
                await Task.Delay(pause, clock, stoppingToken);
                pause = TimeSpan.FromTicks(Math.Min(pause.Ticks * 2, LongestPause.Ticks));
            }
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        if (_subscription is not null)
            await _subscription.DisposeAsync();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Writing the message log from {Queue} to {Store}")]
    private partial void LogConsuming(string queue, string store);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Message-log message {MessageId} dropped: it is not a list of entries ({Reason})")]
    private partial void LogUnreadable(string? messageId, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Count} message-log entries not written to {Store} ({Reason}); trying again in {Pause}, the mail goes on")]
    private partial void LogWriteFailed(int count, string store, string reason, TimeSpan pause);
}
