using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Notifications.Core.Broker;
using Notifications.Core.Telemetry;
using Notifications.Core.Topology;
using RabbitMQ.Client;

namespace Notifications.Core.MessageLog;

/// <summary>
/// Hands entries to the message log: persistent messages on <c>message.log</c>, confirmed by the broker, for the log's
/// writer to store. Off the send path by construction: the mail never waits for the log's store, only for this publish;
/// and when the queue is full (the store away for long) the entries are dropped and counted, the mail goes on.
/// <para>
/// Callers' entries go out together: one publish at a time carries everything asked for while the one before it was
/// being confirmed (as a group commit does), so a busy worker sends one message per many outcomes instead of one each —
/// the broker's work per outcome is what made the log cost a quarter of the pipeline (bench/README.md). Nothing waits for
/// a timer: alone, an entry goes out at once. Each caller returns only once the message holding its entries is confirmed.
/// </para>
/// </summary>
/// <param name="telemetry">null in a program without metrics (<c>dlq</c>).</param>
/// <param name="enabled"><c>MessageLog:Enabled</c>: false publishes nothing.</param>
public sealed partial class MessageLogPublisher(ConfirmedPublisher publisher, NotificationsTelemetry? telemetry, ILogger<MessageLogPublisher> logger,
    bool enabled = true)
{
    public const string ContentType = "application/json";
    public const string MessageType = "log-entries";

    /// <summary>At most this many entries, or about this many characters of content, in one message.</summary>
    private const int MaxEntries = 1_000;
    private const int MaxContentChars = 1 << 20;

    private readonly Channel<Asked> _asked = Channel.CreateUnbounded<Asked>(new UnboundedChannelOptions { SingleReader = true });
    private readonly List<Asked> _batch = [];
    private Task? _loop;

    private sealed record Asked(IReadOnlyList<LogEntry> Entries, TaskCompletionSource Done);

    public bool Enabled => enabled;

    /// <exception cref="PublishFailedException">the broker did not confirm them (it is away, or too slow); not for a full queue.</exception>
    public Task PublishAsync(IReadOnlyList<LogEntry> entries, CancellationToken cancellationToken)
    {
        if (entries.Count == 0 || !enabled)
            return Task.CompletedTask;
        var asked = new Asked(entries, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        _asked.Writer.TryWrite(asked);
        if (_loop is null)
            lock (_batch)
                _loop ??= Task.Run(PublishLoopAsync);
        return asked.Done.Task.WaitAsync(cancellationToken);
    }

    private async Task PublishLoopAsync()
    {
        var entries = new List<LogEntry>();
        while (await _asked.Reader.WaitToReadAsync())
        {
            _batch.Clear();
            entries.Clear();
            var content = 0;
            while (entries.Count < MaxEntries && content < MaxContentChars && _asked.Reader.TryRead(out var asked))
            {
                _batch.Add(asked);
                entries.AddRange(asked.Entries);
                foreach (var entry in asked.Entries)
                    content += (entry.Content?.Text?.Length ?? 0) + (entry.Content?.Html?.Length ?? 0);
            }
            try
            {
                await PublishOneAsync(entries);
                foreach (var asked in _batch)
                    asked.Done.TrySetResult();
            }
            catch (Exception ex)
            {
                foreach (var asked in _batch)
                    asked.Done.TrySetException(ex);
            }
        }
    }

    private async Task PublishOneAsync(List<LogEntry> entries)
    {
        var properties = new BasicProperties
        {
            MessageId = entries[0].MessageId,
            Type = MessageType,
            ContentType = ContentType,
            DeliveryMode = DeliveryModes.Persistent,
        };
        try
        {
            await publisher.PublishAsync(TopologyNames.MessageLogKey, properties, LogEntry.Encode(entries), CancellationToken.None);
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
