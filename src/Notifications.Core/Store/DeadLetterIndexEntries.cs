using System.Text.Json;
using System.Text.Json.Serialization;

namespace Notifications.Core.Store;

/// <summary>
/// One dead letter as the console's index holds it: what groups, filters and lists need, small enough that 100,000 fit in
/// memory. The DLQ stays the source of truth: every field is read off the message itself (<c>DeadLetterIndexing</c>).
/// </summary>
/// <param name="Reason">the last error with ids, addresses and numbers taken out (<c>FailureGroups.Normalize</c>).</param>
/// <param name="Group">the <c>dlq</c> tool's group key of (kind, reason): <c>dlq replay --group</c> takes it.</param>
/// <param name="Domain">the first recipient's domain, lower case; empty when the body names none.</param>
public sealed record DeadLetterEntry(
    string Id,
    string Kind,
    string Reason,
    string Group,
    string Error,
    string Client,
    string Domain,
    string Recipients,
    string Subject,
    DateTimeOffset DiedAt,
    int Attempts,
    int Replays,
    string Lane)
{
    /// <summary>Whether the text search finds this entry: recipient, subject, job id or error, case-insensitive.</summary>
    public bool Mentions(string text) =>
        Id.Contains(text, StringComparison.OrdinalIgnoreCase)
        || Recipients.Contains(text, StringComparison.OrdinalIgnoreCase)
        || Subject.Contains(text, StringComparison.OrdinalIgnoreCase)
        || Error.Contains(text, StringComparison.OrdinalIgnoreCase);

    private static string Clip(string text, int max) => text.Length <= max ? text : text[..max];

    public string ToJson() => JsonSerializer.Serialize(this, DeadLetterJsonContext.Default.DeadLetterEntry);

    public static DeadLetterEntry? FromJson(string? json)
    {
        if (string.IsNullOrEmpty(json))
            return null;
        try
        {
            return JsonSerializer.Deserialize(json, DeadLetterJsonContext.Default.DeadLetterEntry);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

/// <summary>
/// What the console shows of one dead letter beyond its entry: its headers as text and its body (clipped at
/// <see cref="MaxBody"/>; the whole message stays in the DLQ).
/// </summary>
public sealed record DeadLetterDetail(IReadOnlyDictionary<string, string> Headers, string Body, bool BodyClipped)
{
    public const int MaxBody = 256 * 1024;

    public string ToJson() => JsonSerializer.Serialize(this, DeadLetterJsonContext.Default.DeadLetterDetail);

    public static DeadLetterDetail? FromJson(string? json)
    {
        if (string.IsNullOrEmpty(json))
            return null;
        try
        {
            return JsonSerializer.Deserialize(json, DeadLetterJsonContext.Default.DeadLetterDetail);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

/// <summary>An entry and its detail, as the worker writes them when it parks a job in the DLQ.</summary>
public sealed record IndexedDeadLetter(DeadLetterEntry Entry, DeadLetterDetail Detail)
;

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(DeadLetterEntry))]
[JsonSerializable(typeof(DeadLetterDetail))]
internal sealed partial class DeadLetterJsonContext : JsonSerializerContext;
