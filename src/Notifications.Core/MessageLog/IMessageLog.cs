namespace Notifications.Core.MessageLog;

/// <summary>
/// The message log's store (docs/message-log.md): SQLite on one machine, PostgreSQL for a deployment. Both pass one set
/// of store tests. Reads may run in any instance; writes come from the log's writer, in batches.
/// </summary>
public interface IMessageLog
{
    /// <summary>Where the store lives, for the logs ("SQLite /var/lib/…/messages.db").</summary>
    string Describe();

    /// <summary>Creates or migrates the schema. Called once at start-up, before anything else.</summary>
    Task InitializeAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Writes the entries in one transaction: each message's facts (merged into what is known), its events (one per
    /// <see cref="LogEntry.UniqueKey"/>, however often it comes) and its content. All or nothing.
    /// </summary>
    Task WriteAsync(IReadOnlyList<LogEntry> entries, CancellationToken cancellationToken);

    /// <summary>A page of messages, newest first.</summary>
    Task<MessagePage> SearchAsync(MessageQuery query, CancellationToken cancellationToken);

    /// <summary>One message with its events, oldest first; null when unknown (or not <paramref name="client"/>'s, when given).</summary>
    Task<LoggedMessageView?> GetAsync(string id, string? client, CancellationToken cancellationToken);

    /// <summary>What the message said, while kept.</summary>
    Task<ContentLookup> GetContentAsync(string id, string? client, CancellationToken cancellationToken);

    /// <summary>
    /// Removes <paramref name="address"/> (normalized) from the log: messages it was the only recipient of go whole; the
    /// others lose it from their recipients, events and content. Returns how many messages were changed or removed.
    /// </summary>
    Task<int> EraseAsync(string address, CancellationToken cancellationToken);

    /// <summary>Deletes what expired before <paramref name="now"/>: content after its retention, messages after theirs.</summary>
    Task<PurgeResult> PurgeAsync(DateTimeOffset now, CancellationToken cancellationToken);
}

/// <param name="Recipient">a whole address (to, cc or bcc), normalized.</param>
/// <param name="From">a whole address, normalized.</param>
/// <param name="Subject">words, each matched as a word (a prefix with a trailing <c>*</c>).</param>
/// <param name="Client">only this client's messages (a client sees only its own).</param>
/// <param name="After">the cursor: messages older than this one, in the order the pages are in.</param>
public sealed record MessageQuery(int Limit)
{
    public string? Client { get; init; }
    public string? Recipient { get; init; }
    public string? From { get; init; }
    public string? Subject { get; init; }
    public string? Status { get; init; }
    public string? List { get; init; }
    public IReadOnlyList<KeyValuePair<string, string>> Metadata { get; init; } = [];
    public DateTimeOffset? Since { get; init; }
    public DateTimeOffset? Until { get; init; }
    public MessagePosition? After { get; init; }
}

/// <summary>Where a message stands in the log's order (newest first): its acceptance time, then its id.</summary>
public readonly record struct MessagePosition(long AcceptedAtMs, string Id);

public sealed record MessagePage(IReadOnlyList<MessageSummary> Items, MessagePosition? Next);

/// <param name="To">every recipient (to, cc and bcc) by kind, as <see cref="MessageRecipient"/>s.</param>
public sealed record MessageSummary(
    string Id,
    string? Client,
    string? From,
    IReadOnlyList<MessageRecipient> Recipients,
    string? Subject,
    string Status,
    DateTimeOffset AcceptedAt,
    DateTimeOffset LastEventAt)
{
    public string? List { get; init; }
    public string? Priority { get; init; }
    public IReadOnlyDictionary<string, string>? Metadata { get; init; }
    public DateTimeOffset? SendAt { get; init; }
    public long? Size { get; init; }
    public bool? Signed { get; init; }
    public string? Via { get; init; }
    public string? FollowUpOf { get; init; }
    public bool HasContent { get; init; }
}

/// <param name="Kind"><c>to</c>, <c>cc</c> or <c>bcc</c>.</param>
public sealed record MessageRecipient(string Address, string Kind);

public sealed record LoggedEvent(string Type, DateTimeOffset At, System.Text.Json.Nodes.JsonObject? Details);

public sealed record LoggedMessageView(MessageSummary Message, IReadOnlyList<LoggedEvent> Events);

/// <summary>A message's content, or why there is none: unknown (404) or purged (410).</summary>
public sealed record ContentLookup(bool Known, LoggedContent? Content)
{
    public static readonly ContentLookup Unknown = new(false, null);
    public static readonly ContentLookup Gone = new(true, null);
}

/// <param name="Messages">messages deleted whole.</param>
/// <param name="Contents">contents deleted (their messages kept).</param>
public sealed record PurgeResult(long Messages, long Contents);
