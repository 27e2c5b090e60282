namespace Notifications.Core.Store;

public sealed partial class SqliteJobStore
{
    public Task<ReputationState> RecordReputationAsync(string client, int sent, IReadOnlyCollection<ReputationEvent> events, int window,
        CancellationToken cancellationToken) => _writer.RunAsync(store =>
    {
        // Each event carries the count of recipients at the moment it was recorded; it leaves the window once that many
        // more were sent, and is deleted then.
        // Only reading (sent 0, no events: the API's look every second) writes nothing.
        var total = sent == 0 && events.Count == 0
            ? store.Scalar("SELECT sent FROM reputation WHERE client = $client", ("$client", client)) as long? ?? 0
            : (long)store.Scalar("""
                INSERT INTO reputation (client, sent) VALUES ($client, $sent)
                ON CONFLICT (client) DO UPDATE SET sent = reputation.sent + $sent
                RETURNING sent
                """, ("$client", client), ("$sent", sent))!;
        foreach (var e in events)
            store.Execute("INSERT OR IGNORE INTO reputation_events (client, key, complaint, seq) VALUES ($client, $key, $complaint, $seq)",
                ("$client", client), ("$key", e.Key), ("$complaint", e.Complaint ? 1 : 0), ("$seq", total));
        if (sent > 0)
            store.Execute("DELETE FROM reputation_events WHERE client = $client AND seq <= $floor", ("$client", client), ("$floor", total - window));
        var (bounces, complaints) = store.Query("""
            SELECT COALESCE(SUM(complaint = 0), 0), COALESCE(SUM(complaint), 0) FROM reputation_events WHERE client = $client AND seq > $floor
            """, reader => reader.Read() ? (reader.GetInt32(0), reader.GetInt32(1)) : (0, 0), ("$client", client), ("$floor", total - window));
        var pause = store.Query("SELECT paused_at, paused_reason FROM reputation WHERE client = $client",
            reader => reader.Read() && !reader.IsDBNull(0)
                ? (At: (DateTimeOffset?)DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(0)), Reason: reader.IsDBNull(1) ? null : reader.GetString(1))
                : (null, null), ("$client", client));
        return new ReputationState(client, total, window, bounces, complaints, pause.At, pause.Reason);
    }, cancellationToken);

    public Task<bool> PauseClientAsync(string client, string reason, DateTimeOffset at, CancellationToken cancellationToken) => _writer.RunAsync(store =>
        store.Execute("""
            INSERT INTO reputation (client, sent, paused_at, paused_reason) VALUES ($client, 0, $at, $reason)
            ON CONFLICT (client) DO UPDATE SET paused_at = $at, paused_reason = $reason WHERE reputation.paused_at IS NULL
            """, ("$client", client), ("$at", at.ToUnixTimeMilliseconds()), ("$reason", reason)) == 1, cancellationToken);

    public Task<bool> ResumeClientAsync(string client, CancellationToken cancellationToken) => _writer.RunAsync(store =>
    {
        var wasPaused = store.Scalar("SELECT paused_at FROM reputation WHERE client = $client", ("$client", client)) is not null;
        store.Execute("DELETE FROM reputation WHERE client = $client", ("$client", client));
        store.Execute("DELETE FROM reputation_events WHERE client = $client", ("$client", client));
        return wasPaused;
    }, cancellationToken);
}
