using System.Text.Json;
using System.Text.Json.Serialization;

namespace Notifications.Core.Store;

/// <summary>
/// What became of single recipients of a job, when not all of them simply got it: in the job's status and its event.
/// </summary>
/// <param name="Rejected">refused for good by the relay at <c>RCPT TO</c> (5xx), with its reply; the others still got the mail.</param>
/// <param name="Suppressed">left out because they are on the suppression list.</param>
/// <param name="Deferred">refused for now at <c>RCPT TO</c> (4xx): a follow-up job (its id given) retries them alone.</param>
/// <param name="Bounced">accepted by the relay, then refused for good by their server (a DSN came back, 5.x.x): suppressed.</param>
/// <param name="SoftBounced">accepted by the relay, then given up on for now by their server (a DSN with 4.x.x): not suppressed.</param>
/// <param name="Complained">reported the mail as spam (an ARF report came back): suppressed for the client.</param>
public sealed record RecipientOutcomes(
    IReadOnlyList<RefusedRecipient>? Rejected = null,
    IReadOnlyList<string>? Suppressed = null,
    IReadOnlyList<RefusedRecipient>? Deferred = null,
    IReadOnlyList<RefusedRecipient>? Bounced = null,
    IReadOnlyList<RefusedRecipient>? SoftBounced = null,
    IReadOnlyList<string>? Complained = null)
{
    public bool IsEmpty => Rejected is not { Count: > 0 } && Suppressed is not { Count: > 0 } && Deferred is not { Count: > 0 }
        && Bounced is not { Count: > 0 } && SoftBounced is not { Count: > 0 } && Complained is not { Count: > 0 };

    /// <summary>These outcomes with a later report about one recipient added (once: a report read twice changes nothing).</summary>
    public static RecipientOutcomes With(RecipientOutcomes? outcomes, RefusedRecipient? bounced = null, RefusedRecipient? softBounced = null,
        string? complained = null)
    {
        outcomes ??= new RecipientOutcomes();
        static IReadOnlyList<T>? Add<T>(IReadOnlyList<T>? list, T? item, Func<T, string> key) where T : class =>
            item is null || list?.Any(e => string.Equals(key(e), key(item), StringComparison.OrdinalIgnoreCase)) == true ? list : [.. list ?? [], item];
        return outcomes with
        {
            Bounced = Add(outcomes.Bounced, bounced, r => r.Address),
            SoftBounced = Add(outcomes.SoftBounced, softBounced, r => r.Address),
            Complained = Add(outcomes.Complained, complained, a => a),
        };
    }

    public string ToJson() => JsonSerializer.Serialize(this, RecipientOutcomesJsonContext.Default.RecipientOutcomes);

    public static RecipientOutcomes? FromJson(string? json) =>
        string.IsNullOrEmpty(json) ? null : JsonSerializer.Deserialize(json, RecipientOutcomesJsonContext.Default.RecipientOutcomes);
}

/// <param name="FollowUp">for a deferred recipient: the id of the job that retries it.</param>
public sealed record RefusedRecipient(string Address, string Reply, string? FollowUp = null);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(RecipientOutcomes))]
public sealed partial class RecipientOutcomesJsonContext : JsonSerializerContext;
