using System.Text.Json;
using System.Text.Json.Serialization;

namespace Notifications.Core.Webhooks;

/// <summary>
/// The body of a callback: <c>{"type", "timestamp", "data": {...}}</c>. It says what became of a job, never what the mail
/// said: no subject, no body, no bcc.
/// </summary>
public sealed record WebhookEvent(string Type, DateTimeOffset Timestamp, WebhookData Data)
{
    public const string Sent = "email.sent";
    public const string Retrying = "email.retrying";
    public const string Dead = "email.dead";
    public const string Suppressed = "email.suppressed";
    public const string Replayed = "email.replayed";
    public const string Unsubscribed = "email.unsubscribed";

    /// <summary>
    /// The <c>webhook-id</c>: one per outcome of a job, the same however often that outcome is published (a redelivered
    /// job) or the callback retried, so a receiver can deduplicate.
    /// </summary>
    public string Id => $"msg_{Data.Id}_{Type["email.".Length..]}_{Data.Replays}_{Data.Attempt ?? 0}";

    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, WebhookJsonContext.Default.WebhookEvent);
}

/// <param name="Recipients">to and cc (never bcc).</param>
/// <param name="Rejected">recipients the relay refused for good (to and cc), for email.sent.</param>
/// <param name="Suppressed">recipients left out as suppressed (to and cc).</param>
public sealed record WebhookData(
    string Id,
    string? Client,
    string Status,
    int? Attempt,
    string? Error,
    IReadOnlyList<string> Recipients,
    IReadOnlyDictionary<string, string>? Metadata,
    int Replays = 0,
    string? Kind = null,
    IReadOnlyList<string>? Rejected = null,
    IReadOnlyList<string>? Suppressed = null,
    string? List = null);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(WebhookEvent))]
public sealed partial class WebhookJsonContext : JsonSerializerContext;

/// <summary>Builds a callback's body from what the worker or <c>dlq</c> knows about a job.</summary>
public static class WebhookEvents
{
    /// <param name="job">the decoded job, for its recipients and metadata; null when its body is not a job (poison).</param>
    public static WebhookEvent For(string type, string status, string jobId, string? client, Contract.EmailJob? job, DateTimeOffset at,
        int? attempt = null, string? error = null, int replays = 0, string? kind = null, Store.RecipientOutcomes? outcomes = null)
    {
        var visible = job?.VisibleRecipients().ToList() ?? [];
        var visibleAddresses = visible.Select(r => Suppressions.SuppressedAddress.Normalize(r) ?? r).ToHashSet(StringComparer.OrdinalIgnoreCase);
        return new WebhookEvent(type, at, new WebhookData(jobId, client, status, attempt, error, visible, job?.Metadata, replays, kind,
            outcomes?.Rejected?.Select(r => r.Address).Where(visibleAddresses.Contains).ToList() is { Count: > 0 } rejected ? rejected : null,
            outcomes?.Suppressed?.Where(visibleAddresses.Contains).ToList() is { Count: > 0 } suppressed ? suppressed : null));
    }
}
