using System.Text;
using Microsoft.Data.Sqlite;
using Notifications.Core.Store;

namespace Notifications.Core.MessageLog;

/// <summary>Erasing an address, and purging what expired in chunks.</summary>
public sealed partial class SqliteMessageLog
{
    public async Task<int> EraseAsync(string address, CancellationToken cancellationToken)
    {
        await _writing.WaitAsync(cancellationToken);
        try
        {
            using var connection = Open();
            using var transaction = connection.BeginTransaction();
            var seqs = new List<(long Seq, bool Only)>();
            using (var command = Command(connection, """
                SELECT r.message_seq, NOT EXISTS (SELECT 1 FROM log_recipients o WHERE o.message_seq = r.message_seq AND o.address <> $address)
                FROM log_recipients r WHERE r.address = $address GROUP BY r.message_seq
                """, ("$address", address)))
            {
                command.Transaction = transaction;
                using var reader = command.ExecuteReader();
                while (reader.Read())
                    seqs.Add((reader.GetInt64(0), reader.GetBoolean(1)));
            }
            DeleteMessages(connection, transaction, seqs.Where(s => s.Only).Select(s => s.Seq).ToList());
            foreach (var (seq, _) in seqs.Where(s => !s.Only))
            {
                Run(connection, transaction, "DELETE FROM log_recipients WHERE message_seq = $seq AND address = $address", [("$seq", seq), ("$address", address)]);
                // The mail's bodies and headers name everyone it went to: they go; the events keep what they said of the others.
                Run(connection, transaction, "DELETE FROM log_contents WHERE message_seq = $seq", [("$seq", seq)]);
                var scrubbed = new List<(long RowId, string Details)>();
                using (var command = Command(connection, "SELECT rowid, details FROM log_events WHERE message_seq = $seq AND details IS NOT NULL", ("$seq", seq)))
                {
                    command.Transaction = transaction;
                    using var reader = command.ExecuteReader();
                    while (reader.Read())
                        if (reader.GetString(1) is var details && details.Contains(address, StringComparison.OrdinalIgnoreCase))
                            scrubbed.Add((reader.GetInt64(0), LogAddresses.Scrub(details, address)));
                }
                foreach (var (rowId, details) in scrubbed)
                    Run(connection, transaction, "UPDATE log_events SET details = $details WHERE rowid = $rowid", [("$rowid", rowId), ("$details", details)]);
            }
            transaction.Commit();
            return seqs.Count;
        }
        finally
        {
            _writing.Release();
        }
    }

    public async Task<PurgeResult> PurgeAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        var at = now.ToUnixTimeMilliseconds();
        long messages = 0, contents = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            await _writing.WaitAsync(cancellationToken);
            try
            {
                using var connection = Open();
                using var transaction = connection.BeginTransaction();
                var deleted = Run(connection, transaction,
                    $"DELETE FROM log_contents WHERE rowid IN (SELECT rowid FROM log_contents WHERE expires <= $now LIMIT {DeleteChunk})", [("$now", at)]);
                contents += deleted;
                var seqs = new List<long>();
                using (var command = Command(connection, $"SELECT seq FROM log_messages WHERE accepted_at <= $oldest LIMIT {DeleteChunk}",
                    ("$oldest", at - (long)options.Retention.TotalMilliseconds)))
                {
                    command.Transaction = transaction;
                    using var reader = command.ExecuteReader();
                    while (reader.Read())
                        seqs.Add(reader.GetInt64(0));
                }
                DeleteMessages(connection, transaction, seqs);
                transaction.Commit();
                messages += seqs.Count;
                if (deleted < DeleteChunk && seqs.Count < DeleteChunk)
                    break;
            }
            finally
            {
                _writing.Release();
            }
        }
        return new PurgeResult(messages, contents);
    }

    private static void DeleteMessages(SqliteConnection connection, SqliteTransaction transaction, List<long> seqs)
    {
        if (seqs.Count == 0)
            return;
        var list = string.Join(',', seqs);
        foreach (var table in new[] { "log_recipients", "log_metadata", "log_events", "log_contents" })
            Run(connection, transaction, $"DELETE FROM {table} WHERE message_seq IN ({list})", []);
        Run(connection, transaction, $"DELETE FROM log_messages WHERE seq IN ({list})", []);
    }
}
