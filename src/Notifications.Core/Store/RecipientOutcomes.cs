using System.Text.Json;
using System.Text.Json.Serialization;

namespace Notifications.Core.Store;

/// <summary>
/// What became of single recipients of a job, when not all of them simply got it: in the job's status and its event.
/// </summary>
/// <param name="Rejected">refused for good by the relay at <c>RCPT TO</c> (5xx), with its reply; the others still got the mail.</param>
/// <param name="Suppressed">left out because they are on the suppression list.</param>
/// <param name="Deferred">refused for now at <c>RCPT TO</c> (4xx): a follow-up job (its id given) retries them alone.</param>
public sealed record RecipientOutcomes(
    IReadOnlyList<RefusedRecipient>? Rejected = null,
    IReadOnlyList<string>? Suppressed = null,
    IReadOnlyList<RefusedRecipient>? Deferred = null)
{
    public bool IsEmpty => Rejected is not { Count: > 0 } && Suppressed is not { Count: > 0 } && Deferred is not { Count: > 0 };

    public string ToJson() => JsonSerializer.Serialize(this, RecipientOutcomesJsonContext.Default.RecipientOutcomes);

    public static RecipientOutcomes? FromJson(string? json) =>
        string.IsNullOrEmpty(json) ? null : JsonSerializer.Deserialize(json, RecipientOutcomesJsonContext.Default.RecipientOutcomes);
}

/// <param name="FollowUp">for a deferred recipient: the id of the job that retries it.</param>
public sealed record RefusedRecipient(string Address, string Reply, string? FollowUp = null);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(RecipientOutcomes))]
public sealed partial class RecipientOutcomesJsonContext : JsonSerializerContext;
