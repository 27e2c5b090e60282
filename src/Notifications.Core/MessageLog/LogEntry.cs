using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Notifications.Core.MessageLog;

/// <summary>
/// One thing that happened to a message, as the message log records it (docs/message-log.md): what, when, and its details
/// as named fields. Entries travel to the log's writer through the broker (<c>message.log</c>), several to a message.
/// </summary>
/// <param name="MessageId">the job's id (a follow-up job is a message of its own).</param>
/// <param name="Type">one of <see cref="LogEntryTypes"/>.</param>
public sealed record LogEntry(string MessageId, string Type, DateTimeOffset At)
{
    public string? Client { get; init; }

    /// <summary>
    /// What makes this entry itself: an entry announced twice (a redelivered job settles again) is written once. Null: the
    /// type and time are (unique enough for an entry that happens once a message).
    /// </summary>
    public string? Key { get; init; }

    /// <summary>The message's facts (sender, recipients, subject…): every entry the API or the worker writes from the job carries them.</summary>
    public LoggedMessage? Message { get; init; }

    /// <summary>The bodies and headers as sent, on the entry of the attempt that sent them.</summary>
    public LoggedContent? Content { get; init; }

    /// <summary>The entry's own fields (<c>relay</c>, <c>tls</c>, <c>durationMs</c>, <c>recipients</c>, <c>status</c>…).</summary>
    public JsonObject? Details { get; init; }

    /// <summary>The key the store deduplicates by.</summary>
    public string UniqueKey => Key ?? $"{Type}:{At.ToUnixTimeMilliseconds()}";

    public static byte[] Encode(IReadOnlyList<LogEntry> entries) =>
        JsonSerializer.SerializeToUtf8Bytes(entries, MessageLogJsonContext.Default.IReadOnlyListLogEntry);

    /// <exception cref="JsonException">not a list of entries.</exception>
    public static IReadOnlyList<LogEntry> Decode(ReadOnlySpan<byte> body) =>
        JsonSerializer.Deserialize(body, MessageLogJsonContext.Default.IReadOnlyListLogEntry) ?? throw new JsonException("null is not a list of log entries");
}

/// <summary>The message's own facts, as the job says them.</summary>
/// <param name="AcceptedAt">when the API took the job (the job's <c>createdAt</c>): the log's order.</param>
/// <param name="Via">how it was accepted: <c>http</c>, <c>batch</c>, <c>smtp</c>.</param>
/// <param name="FollowUpOf">for a follow-up job (deferred recipients tried again): the job it follows.</param>
public sealed record LoggedMessage(DateTimeOffset AcceptedAt, string From, string Subject)
{
    public IReadOnlyList<string> To { get; init; } = [];
    public IReadOnlyList<string> Cc { get; init; } = [];
    public IReadOnlyList<string> Bcc { get; init; } = [];
    public string? List { get; init; }
    public string? Priority { get; init; }
    public IReadOnlyDictionary<string, string>? Metadata { get; init; }
    public DateTimeOffset? SendAt { get; init; }
    public long? Size { get; init; }
    public bool? Signed { get; init; }
    public string? Via { get; init; }
    public string? FollowUpOf { get; init; }
}

/// <summary>What the mail said, kept for <c>MessageLog:ContentRetention</c>.</summary>
public sealed record LoggedContent(string? Text, string? Html, IReadOnlyList<LoggedHeader> Headers);

public sealed record LoggedHeader(string Name, string Value);

/// <summary>The entry types, as the API names them.</summary>
public static class LogEntryTypes
{
    public const string Accepted = "accepted";
    public const string Scheduled = "scheduled";
    public const string Cancelled = "cancelled";
    public const string Suppressed = "suppressed";
    public const string Attempt = "attempt";
    public const string RetryScheduled = "retry-scheduled";
    public const string Sent = "sent";
    public const string Deferred = "deferred";
    public const string Bounced = "bounced";
    public const string Complained = "complained";
    public const string Unsubscribed = "unsubscribed";
    public const string DeadLettered = "dead-lettered";
    public const string Replayed = "replayed";
    public const string Paused = "paused";
    public const string Webhook = "webhook";

    public static readonly IReadOnlySet<string> All = new HashSet<string>(StringComparer.Ordinal)
    {
        Accepted, Scheduled, Cancelled, Suppressed, Attempt, RetryScheduled, Sent, Deferred, Bounced, Complained, Unsubscribed,
        DeadLettered, Replayed, Paused, Webhook,
    };

    /// <summary>
    /// The message's status after an entry of <paramref name="type"/>, or null when the entry does not change it (an
    /// attempt, a webhook delivery, an unsubscribe, a pause, a deferral of some recipients).
    /// </summary>
    public static string? StatusAfter(string type) => type switch
    {
        Accepted => MessageStatuses.Queued,
        Scheduled => MessageStatuses.Scheduled,
        Cancelled => MessageStatuses.Cancelled,
        Suppressed => MessageStatuses.Suppressed,
        RetryScheduled => MessageStatuses.Retrying,
        Sent => MessageStatuses.Sent,
        Bounced => MessageStatuses.Bounced,
        Complained => MessageStatuses.Complained,
        DeadLettered => MessageStatuses.Dead,
        Replayed => MessageStatuses.Replayed,
        _ => null,
    };
}

/// <summary>A message's status in the log: where its last entry that says one left it.</summary>
public static class MessageStatuses
{
    public const string Queued = "queued";
    public const string Scheduled = "scheduled";
    public const string Cancelled = "cancelled";
    public const string Suppressed = "suppressed";
    public const string Retrying = "retrying";
    public const string Sent = "sent";
    public const string Bounced = "bounced";
    public const string Complained = "complained";
    public const string Dead = "dead";
    public const string Replayed = "replayed";

    public static readonly IReadOnlyList<string> All = [Queued, Scheduled, Cancelled, Suppressed, Retrying, Sent, Bounced, Complained, Dead, Replayed];
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(IReadOnlyList<LogEntry>))]
[JsonSerializable(typeof(JsonObject))]
[JsonSerializable(typeof(IReadOnlyList<LoggedHeader>))]
[JsonSerializable(typeof(IReadOnlyDictionary<string, string>))]
[JsonSerializable(typeof(int))]
[JsonSerializable(typeof(long))]
[JsonSerializable(typeof(bool))]
[JsonSerializable(typeof(double))]
[JsonSerializable(typeof(string))]
internal sealed partial class MessageLogJsonContext : JsonSerializerContext;
