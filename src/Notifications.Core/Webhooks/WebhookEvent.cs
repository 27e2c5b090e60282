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
    public const string Bounced = "email.bounced";
    public const string Delayed = "email.delayed";
    public const string Complained = "email.complained";
    public const string ClientPaused = "client.paused";

    /// <summary>
    /// The <c>webhook-id</c>: one per outcome of a job, the same however often that outcome is published (a redelivered
    /// job) or the callback retried, so a receiver can deduplicate.
    /// A report about one recipient (a bounce, a complaint) is one outcome per recipient: its address's hash tells them apart.
    /// </summary>
    public string Id => Data.Recipient is { } recipient
        ? $"msg_{Data.Id}_{Type[(Type.IndexOf('.') + 1)..]}_{Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(recipient.ToLowerInvariant())))[..12]}"
        : $"msg_{Data.Id}_{Type[(Type.IndexOf('.') + 1)..]}_{Data.Replays}_{Data.Attempt ?? 0}";

    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, WebhookJsonContext.Default.WebhookEvent);
}

/// <param name="Recipients">to and cc (never bcc).</param>
/// <param name="Rejected">recipients the relay refused for good (to and cc), for email.sent.</param>
/// <param name="Suppressed">recipients left out as suppressed (to and cc).</param>
/// <param name="Recipient">for email.bounced, email.delayed and email.complained: the recipient the report is about.</param>
/// <param name="BounceStatus">for a bounce or delay: the enhanced status code the remote server reported (5.1.1).</param>
/// <param name="Diagnostic">for a bounce or delay: the remote server's reply, one line.</param>
/// <param name="FeedbackType">for a complaint: the report's Feedback-Type (abuse, fraud, …).</param>
/// <param name="Test">true for a test client's job (<c>Clients:&lt;name&gt;:Mode=Test</c>): nothing was mailed; absent for live mail.</param>
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
    string? List = null,
    string? Recipient = null,
    string? BounceStatus = null,
    string? Diagnostic = null,
    string? FeedbackType = null,
    bool? Test = null);

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
