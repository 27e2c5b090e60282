namespace Notifications.Core.Store;

/// <summary>The last known state of a job, as <c>GET /api/emails/{id}</c> answers it.</summary>
/// <param name="Replays">how often an operator replayed it from the DLQ before this state (<c>x-replays</c>).</param>
/// <param name="Client">whose job it is; null when unknown to the writer (a later state keeps the one recorded).</param>
/// <param name="Recipients">recipients rejected, suppressed or deferred, when there were any.</param>
/// <param name="Mailed">the addresses the relay accepted (normalized), on a sent status: the only ones a report that
/// comes back later may act on. Kept by later states of the job that do not say it again.</param>
/// <param name="SendAt">a scheduled job's due time: its status is kept until then plus <c>Store:Retention</c>, so a cancel
/// is still known when the job comes due, whatever the retention.</param>
public sealed record JobStatus(
    string JobId,
    string Status,
    DateTimeOffset At,
    int? Attempt = null,
    string? Kind = null,
    string? Error = null,
    int Replays = 0,
    string? Client = null,
    RecipientOutcomes? Recipients = null,
    IReadOnlyList<string>? Mailed = null,
    DateTimeOffset? SendAt = null)
{
    /// <summary>Whether <paramref name="address"/> (normalized) was one of those the relay accepted for this job.</summary>
    public bool WasMailedTo(string address) => Mailed?.Contains(address, StringComparer.OrdinalIgnoreCase) == true;

    /// <summary><see cref="Mailed"/> as one column or field: addresses never hold a line break.</summary>
    public string? MailedText() => Mailed is { Count: > 0 } mailed ? string.Join('\n', mailed) : null;

    /// <summary>When the store may forget this status: <paramref name="retention"/> after now, or after the job's due time if later.</summary>
    public DateTimeOffset KeepUntil(DateTimeOffset now, TimeSpan retention) =>
        SendAt is { } due && due > now ? due + retention : now + retention;

    /// <summary>A mailed list (<see cref="MailedText"/>) without <paramref name="address"/>, whatever its case; null when none is left.</summary>
    public static string? Without(string? mailed, string address) => MailedOf(mailed) is { } list
        && string.Join('\n', list.Where(a => !string.Equals(a, address, StringComparison.OrdinalIgnoreCase))) is { Length: > 0 } left ? left : null;

    public static IReadOnlyList<string>? MailedOf(string? text) => string.IsNullOrEmpty(text) ? null : text.Split('\n');

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
