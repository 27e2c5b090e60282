namespace Notifications.Core.Store;

/// <summary>The last known state of a job, as <c>GET /api/emails/{id}</c> answers it.</summary>
/// <param name="Replays">how often an operator replayed it from the DLQ before this state (<c>x-replays</c>).</param>
/// <param name="Client">whose job it is; null when unknown to the writer (a later state keeps the one recorded).</param>
/// <param name="Recipients">recipients rejected, suppressed or deferred, when there were any.</param>
public sealed record JobStatus(
    string JobId,
    string Status,
    DateTimeOffset At,
    int? Attempt = null,
    string? Kind = null,
    string? Error = null,
    int Replays = 0,
    string? Client = null,
    RecipientOutcomes? Recipients = null)
{
    public const string Queued = "queued";
    public const string Retrying = "retrying";
    public const string Sent = "sent";
    public const string Dead = "dead";
    public const string Replayed = "replayed";
    public const string Suppressed = "suppressed";
    public const string Scheduled = "scheduled";
    public const string Cancelled = "cancelled";

    /// <summary>
    /// Where this state stands in the job's life: by replay round, then by rank (queued or replayed, then
    /// retrying, then sent or dead), then by attempt. Statuses come from several hosts whose clocks
    /// differ and through events that may arrive late or twice, so the order is the job's, not the clock's.
    /// </summary>
    public long Order => ((long)Math.Clamp(Replays, 0, 0xFFFF) << 32) | ((long)Rank << 16) | (long)Math.Clamp(Attempt ?? 0, 0, 0xFFFF);

    private int Rank => Status switch
    {
        Queued or Replayed or Scheduled => 0,
        Retrying => 1,
        _ => 2, // sent, dead, suppressed, cancelled: the end of a round
    };
}

/// <summary>A status as the Redis store keeps it in a job's history.</summary>
[System.Text.Json.Serialization.JsonSourceGenerationOptions(System.Text.Json.JsonSerializerDefaults.Web,
    DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
[System.Text.Json.Serialization.JsonSerializable(typeof(JobStatus))]
internal sealed partial class StatusHistoryJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
