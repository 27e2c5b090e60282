namespace Notifications.Core.Store;

/// <summary>Every status a job was given, in the order written: the console's timeline.</summary>
public sealed partial class SqliteJobStore
{
    private void WriteHistory(SqliteStatements store, JobStatus status) =>
        store.Execute("""
            INSERT INTO status_history (job_id, status, at, attempt, kind, error, replays, client, recipients, expires)
                VALUES ($id, $status, $at, $attempt, $kind, $error, $replays, $client, $recipients, $expires)
            """, ("$id", status.JobId), ("$status", status.Status), ("$at", status.At.ToUnixTimeMilliseconds()),
            ("$attempt", status.Attempt), ("$kind", status.Kind), ("$error", status.Error), ("$replays", status.Replays),
            ("$client", status.Client), ("$recipients", status.Recipients is { IsEmpty: false } r ? r.ToJson() : null), ("$expires", Expires(status)));

    public Task<IReadOnlyList<JobStatus>> GetHistoryAsync(string jobId, CancellationToken cancellationToken)
    {
        using var connection = Open();
        using var command = Command(connection, """
            SELECT status, at, attempt, kind, error, replays, client, recipients FROM status_history
            WHERE job_id = $id AND expires > $now ORDER BY seq
            """, ("$id", jobId), ("$now", Now()));
        using var reader = command.ExecuteReader();
        var history = new List<JobStatus>();
        while (reader.Read())
            history.Add(new JobStatus(jobId, reader.GetString(0), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(1)),
                reader.IsDBNull(2) ? null : reader.GetInt32(2), reader.IsDBNull(3) ? null : reader.GetString(3),
                reader.IsDBNull(4) ? null : reader.GetString(4), reader.GetInt32(5), reader.IsDBNull(6) ? null : reader.GetString(6),
                RecipientOutcomes.FromJson(reader.IsDBNull(7) ? null : reader.GetString(7))));
        return Task.FromResult<IReadOnlyList<JobStatus>>(history);
    }

    private bool WroteHistory(SqliteStatements store, JobStatus status)
    {
        WriteHistory(store, status);
        return true;
    }
}
