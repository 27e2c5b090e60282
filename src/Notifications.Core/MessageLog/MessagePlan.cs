using System.Text.Json;
using Notifications.Core.Contract;
using Notifications.Core.Suppressions;

namespace Notifications.Core.MessageLog;

/// <summary>
/// A batch of entries folded per message, the same way for both stores: the message's facts (the first entry that
/// carries them), the status its latest status-bearing entry leaves it in, its events, its content.
/// </summary>
internal sealed class MessagePlan(string id)
{
    public string Id { get; } = id;
    public string? Client { get; private set; }
    public LoggedMessage? Message { get; private set; }
    public LoggedContent? Content { get; private set; }
    public DateTimeOffset? ContentAt { get; private set; }
    public string? Status { get; private set; }
    public DateTimeOffset StatusAt { get; private set; } = DateTimeOffset.MinValue;
    public DateTimeOffset FirstAt { get; private set; } = DateTimeOffset.MaxValue;
    public DateTimeOffset LastAt { get; private set; } = DateTimeOffset.MinValue;
    public List<LogEntry> Events { get; } = [];

    /// <summary>When the message was accepted: its facts say, else the earliest entry of the batch.</summary>
    public DateTimeOffset AcceptedAt => Message?.AcceptedAt ?? FirstAt;

    public static IReadOnlyList<MessagePlan> Of(IReadOnlyList<LogEntry> entries)
    {
        var plans = new Dictionary<string, MessagePlan>(StringComparer.Ordinal);
        foreach (var entry in entries)
        {
            if (!plans.TryGetValue(entry.MessageId, out var plan))
                plans[entry.MessageId] = plan = new MessagePlan(entry.MessageId);
            plan.Add(entry);
        }
        return [.. plans.Values];
    }

    private void Add(LogEntry entry)
    {
        Client ??= entry.Client;
        Message ??= entry.Message;
        if (entry.Content is not null)
        {
            Content = entry.Content;
            ContentAt = entry.At;
        }
        if (LogEntryTypes.StatusAfter(entry.Type) is { } status && entry.At >= StatusAt)
        {
            Status = status;
            StatusAt = entry.At;
        }
        if (entry.At < FirstAt)
            FirstAt = entry.At;
        if (entry.At > LastAt)
            LastAt = entry.At;
        Events.Add(entry);
    }

    /// <summary>Every recipient of the message's facts, normalized for search, each kind apart, each once.</summary>
    public IEnumerable<MessageRecipient> Recipients()
    {
        if (Message is null)
            yield break;
        var seen = new HashSet<(string, string)>();
        foreach (var (kind, list) in new[] { ("to", Message.To), ("cc", Message.Cc), ("bcc", Message.Bcc) })
            foreach (var recipient in list)
                if (LogAddresses.Normalize(recipient) is { } address && seen.Add((address, kind)))
                    yield return new MessageRecipient(address, kind);
    }

    /// <summary>
    /// Stored as read: <c>+</c>, <c>&lt;</c> and quotes unescaped (the default encoder writes <c>\u002B</c>), so an erasure
    /// finds an address in it as written, and an operator reading the row reads the text.
    /// </summary>
    internal static readonly JsonSerializerOptions Stored = new(MessageLogJsonContext.Default.Options)
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static string? Json(LogEntry entry) => entry.Details?.ToJsonString(Stored);

    public static string? MetadataJson(IReadOnlyDictionary<string, string>? metadata) => metadata is null or { Count: 0 }
        ? null
        : JsonSerializer.Serialize(metadata, Stored.GetTypeInfo(typeof(IReadOnlyDictionary<string, string>)));

    public static IReadOnlyDictionary<string, string>? MetadataOf(string? json) => json is null
        ? null
        : JsonSerializer.Deserialize(json, MessageLogJsonContext.Default.IReadOnlyDictionaryStringString);

    public static string HeadersJson(IReadOnlyList<LoggedHeader> headers) =>
        JsonSerializer.Serialize(headers, Stored.GetTypeInfo(typeof(IReadOnlyList<LoggedHeader>)));

    public static IReadOnlyList<LoggedHeader> HeadersOf(string? json) => json is null
        ? []
        : JsonSerializer.Deserialize(json, MessageLogJsonContext.Default.IReadOnlyListLoggedHeader) ?? [];

    public static System.Text.Json.Nodes.JsonObject? DetailsOf(string? json) => json is null
        ? null
        : System.Text.Json.Nodes.JsonNode.Parse(json) as System.Text.Json.Nodes.JsonObject;
}

/// <summary>Addresses as the log keys them: the bare address, all in lower case (a search for Bob@ finds bob@).</summary>
public static class LogAddresses
{
    public static string? Normalize(string? value) => SuppressedAddress.Normalize(value)?.ToLowerInvariant();

    /// <summary>
    /// The subject words of a search, each as the stores match it: letters and digits only, lower case; a trailing
    /// <c>*</c> keeps its prefix match. Empty when there is no word in it.
    /// </summary>
    public static IReadOnlyList<(string Word, bool Prefix)> Words(string subject)
    {
        var words = new List<(string, bool)>();
        foreach (var raw in subject.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))
        {
            var prefix = raw.EndsWith('*');
            foreach (var part in System.Text.RegularExpressions.Regex.Split(raw.TrimEnd('*'), @"[^\p{L}\p{N}]+"))
                if (part.Length > 0)
                    words.Add((part.ToLowerInvariant(), false));
            if (prefix && words.Count > 0)
                words[^1] = (words[^1].Item1, true);
        }
        return words;
    }

    /// <summary>Replaces every occurrence of <paramref name="address"/> in <paramref name="text"/>, whatever its case (an erasure).</summary>
    public static string Scrub(string text, string address) => EmailAddresses.Scrub(text, address);
}
