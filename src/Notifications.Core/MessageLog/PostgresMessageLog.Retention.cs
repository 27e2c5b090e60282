using System.Globalization;
using System.Text;
using Npgsql;
using NpgsqlTypes;

namespace Notifications.Core.MessageLog;

/// <summary>Erasing an address, and purging what expired by dropping day partitions.</summary>
public sealed partial class PostgresMessageLog
{
    public async Task<int> EraseAsync(string address, CancellationToken cancellationToken)
    {
        await using var connection = await _source.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var found = new List<(string Id, DateTimeOffset AcceptedAt, bool Only)>();
        await using (var command = new NpgsqlCommand(
            """
            SELECT m.id, m.accepted_at, m.recipients <@ ARRAY[$1]::text[] FROM log_recipients d
            JOIN log_messages m ON m.accepted_at = d.accepted_at AND m.id = d.message_id WHERE d.address = $1
            """, connection, transaction))
        {
            command.Parameters.AddWithValue(address);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
                found.Add((reader.GetString(0), reader.GetFieldValue<DateTimeOffset>(1), reader.GetBoolean(2)));
        }
        foreach (var (id, acceptedAt, only) in found)
        {
            await using var batch = new NpgsqlBatch(connection, transaction);
            void Add(string sql)
            {
                var command = new NpgsqlBatchCommand(sql);
                command.Parameters.AddWithValue(id);
                command.Parameters.AddWithValue(acceptedAt);
                command.Parameters.AddWithValue(address);
                batch.BatchCommands.Add(command);
            }
            Add("DELETE FROM log_contents WHERE message_id = $1 AND $2 IS NOT NULL AND $3 IS NOT NULL");
            Add("DELETE FROM log_recipients WHERE message_id = $1 AND accepted_at = $2 AND address = $3");
            if (only)
            {
                Add("DELETE FROM log_metadata WHERE message_id = $1 AND accepted_at = $2 AND $3 IS NOT NULL");
                Add("DELETE FROM log_events WHERE message_id = $1 AND accepted_at = $2 AND $3 IS NOT NULL");
                Add("DELETE FROM log_messages WHERE id = $1 AND accepted_at = $2 AND $3 IS NOT NULL");
            }
            else
            {
                Add("""
                    UPDATE log_messages SET recipients = array_remove(recipients, $3), to_addresses = array_remove(to_addresses, $3),
                        cc_addresses = array_remove(cc_addresses, $3), bcc_addresses = array_remove(bcc_addresses, $3)
                    WHERE id = $1 AND accepted_at = $2
                    """);
            }
            await batch.ExecuteNonQueryAsync(cancellationToken);
            if (!only)
                await ScrubEventsAsync(connection, transaction, id, acceptedAt, address, cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
        return found.Count;
    }

    private static async Task ScrubEventsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string id, DateTimeOffset acceptedAt, string address,
        CancellationToken cancellationToken)
    {
        var scrubbed = new List<(string Key, string Details)>();
        await using (var command = new NpgsqlCommand("SELECT key, details::text FROM log_events WHERE message_id = $1 AND accepted_at = $2 AND details IS NOT NULL", connection, transaction))
        {
            command.Parameters.AddWithValue(id);
            command.Parameters.AddWithValue(acceptedAt);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
                if (reader.GetString(1) is var details && details.Contains(address, StringComparison.OrdinalIgnoreCase))
                    scrubbed.Add((reader.GetString(0), LogAddresses.Scrub(details, address)));
        }
        foreach (var (key, details) in scrubbed)
        {
            await using var update = new NpgsqlCommand("UPDATE log_events SET details = $4::jsonb WHERE message_id = $1 AND accepted_at = $2 AND key = $3", connection, transaction);
            update.Parameters.AddWithValue(id);
            update.Parameters.AddWithValue(acceptedAt);
            update.Parameters.AddWithValue(key);
            update.Parameters.AddWithValue(details);
            await update.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    /// <summary>
    /// Drops the day partitions wholly past their retention (counting their rows first), deletes the expired rows of the
    /// default partitions, and makes the partitions of the days ahead.
    /// </summary>
    public async Task<PurgeResult> PurgeAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await _source.OpenConnectionAsync(cancellationToken);
        long messages = 0, contents = 0;
        var oldest = now - options.Retention;
        foreach (var (table, expiredBefore) in new[] { ("log_messages", oldest), ("log_events", oldest), ("log_recipients", oldest), ("log_metadata", oldest), ("log_contents", now) })
        {
            var partitions = new List<(string Name, DateTimeOffset Day)>();
            await using (var command = new NpgsqlCommand("""
                SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
                WHERE p.relname = $1 AND c.relname ~ '_[0-9]{8}$'
                """, connection))
            {
                command.Parameters.AddWithValue(table);
                await using var reader = await command.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                {
                    var name = reader.GetString(0);
                    partitions.Add((name, new DateTimeOffset(DateTime.ParseExact(name[^8..], "yyyyMMdd", CultureInfo.InvariantCulture), TimeSpan.Zero)));
                }
            }
            foreach (var (name, day) in partitions.Where(p => p.Day.AddDays(1) <= expiredBefore))
            {
                if (table is "log_messages" or "log_contents")
                {
                    await using var count = new NpgsqlCommand($"SELECT count(*) FROM {name}", connection);
                    var rows = (long)(await count.ExecuteScalarAsync(cancellationToken))!;
                    if (table == "log_messages")
                        messages += rows;
                    else
                        contents += rows;
                }
                await ExecuteAsync(connection, null, $"DROP TABLE IF EXISTS {name}", cancellationToken);
            }
        }
        await using (var defaults = new NpgsqlCommand("""
            DELETE FROM log_contents_default WHERE expires <= @now;
            DELETE FROM log_events_default WHERE accepted_at <= @oldest;
            DELETE FROM log_recipients_default WHERE accepted_at <= @oldest;
            DELETE FROM log_metadata_default WHERE accepted_at <= @oldest;
            DELETE FROM log_messages_default WHERE accepted_at <= @oldest;
            """, connection))
        {
            defaults.Parameters.AddWithValue("now", now);
            defaults.Parameters.AddWithValue("oldest", oldest);
            await defaults.ExecuteNonQueryAsync(cancellationToken);
        }
        // Rows of the current partitions whose content expired before the partition's day is over.
        await using (var early = new NpgsqlCommand("DELETE FROM log_contents WHERE expires <= @now", connection))
        {
            early.Parameters.AddWithValue("now", now);
            contents += await early.ExecuteNonQueryAsync(cancellationToken);
        }
        await EnsurePartitionsAsync(connection, now, cancellationToken);
        return new PurgeResult(messages, contents);
    }
}
