using Microsoft.Extensions.Logging;
using Notifications.Core.Broker;
using Notifications.Core.Telemetry;
using Notifications.Core.Topology;
using RabbitMQ.Client;

namespace Notifications.Core.MessageLog;

/// <summary>
/// Hands entries to the message log: one persistent message on <c>message.log</c> per call, confirmed by the broker, for
/// the log's writer to store. Off the send path by construction: the mail never waits for the log's store, only for this
/// publish; and when the queue is full (the store away for long) the entries are dropped and counted, the mail goes on.
/// </summary>
/// <param name="telemetry">null in a program without metrics (<c>dlq</c>).</param>
/// <param name="enabled"><c>MessageLog:Enabled</c>: false publishes nothing.</param>
public sealed partial class MessageLogPublisher(ConfirmedPublisher publisher, NotificationsTelemetry? telemetry, ILogger<MessageLogPublisher> logger,
    bool enabled = true)
{
    public bool Enabled => enabled;

    public const string ContentType = "application/json";
    public const string MessageType = "log-entries";

    /// <exception cref="PublishFailedException">the broker did not confirm them (it is away, or too slow); not for a full queue.</exception>
    public async Task PublishAsync(IReadOnlyList<LogEntry> entries, CancellationToken cancellationToken)
    {
        if (entries.Count == 0 || !enabled)
            return;
        var properties = new BasicProperties
        {
            MessageId = entries[0].MessageId,
            Type = MessageType,
            ContentType = ContentType,
            DeliveryMode = DeliveryModes.Persistent,
        };
        try
        {
            await publisher.PublishAsync(TopologyNames.MessageLogKey, properties, LogEntry.Encode(entries), cancellationToken);
        }
        catch (PublishFailedException ex) when (ex.Refused)
        {
            telemetry?.LogEntriesDropped.Add(entries.Count, new KeyValuePair<string, object?>("reason", "full"));
            LogDropped(entries.Count, entries[0].MessageId);
        }
    }

    /// <summary>For what is logged beside an act that already happened (a webhook delivery, an acceptance): a failure costs the entries, logged.</summary>
    public async Task TryPublishAsync(IReadOnlyList<LogEntry> entries, CancellationToken cancellationToken)
    {
        try
        {
            await PublishAsync(entries, cancellationToken);
        }
        catch (PublishFailedException ex)
        {
            telemetry?.LogEntriesDropped.Add(entries.Count, new KeyValuePair<string, object?>("reason", "unpublished"));
            LogNotPublished(entries.Count, entries[0].MessageId, ex.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Count} message-log entries of {MessageId} dropped: message.log is full (is the log's writer running?)")]
    private partial void LogDropped(int count, string messageId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Count} message-log entries of {MessageId} not logged: {Reason}")]
    private partial void LogNotPublished(int count, string messageId, string reason);
}
