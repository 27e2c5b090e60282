using System.Globalization;
using System.Text;
using Npgsql;
using NpgsqlTypes;

namespace Notifications.Core.MessageLog;

/// <summary>A batch of entries written in three round trips: the locks, what is known, one batch of inserts and updates.</summary>
public sealed partial class PostgresMessageLog
{
    /// <summary>
    /// Three round trips per write, however many messages it holds: the messages' locks (in one order, so two writers never
    /// deadlock), what is known of them, and every insert and update in one batch.
    /// </summary>
    public async Task WriteAsync(IReadOnlyList<LogEntry> entries, CancellationToken cancellationToken)
    {
        if (entries.Count == 0)
            return;
        var plans = MessagePlan.Of(entries).OrderBy(p => p.Id, StringComparer.Ordinal).ToList();
        var ids = plans.Select(p => p.Id).ToArray();
        await using var connection = await _source.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var locks = new NpgsqlCommand(
            "SELECT count(pg_advisory_xact_lock(hashtextextended(id, 0))) FROM (SELECT unnest($1::text[]) AS id ORDER BY 1) AS ids", connection, transaction))
        {
            locks.Parameters.AddWithValue(ids);
            await locks.ExecuteScalarAsync(cancellationToken);
        }
        var known = new Dictionary<string, (DateTimeOffset AcceptedAt, bool HadFacts)>(StringComparer.Ordinal);
        await using (var find = new NpgsqlCommand("SELECT id, accepted_at, sender IS NOT NULL FROM log_messages WHERE id = ANY($1)", connection, transaction))
        {
            find.Parameters.AddWithValue(ids);
            await using var reader = await find.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
                known.TryAdd(reader.GetString(0), (reader.GetFieldValue<DateTimeOffset>(1), reader.GetBoolean(2)));
        }
        await using var batch = new NpgsqlBatch(connection, transaction);
        foreach (var plan in plans)
            Add(batch, plan, known.TryGetValue(plan.Id, out var found) ? found : null);
        await batch.ExecuteNonQueryAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    private void Add(NpgsqlBatch batch, MessagePlan plan, (DateTimeOffset AcceptedAt, bool HadFacts)? known)
    {
        var message = plan.Message;
        var acceptedAt = plan.AcceptedAt;
        var recipients = plan.Recipients().ToList();
        var withFacts = message is not null && known is not { HadFacts: true };
        if (known is null)
        {
            var insert = new NpgsqlBatchCommand("""
                INSERT INTO log_messages (id, accepted_at, client, sender, subject, list, priority, metadata, send_at, size, signed, via, follow_up_of,
                    to_addresses, cc_addresses, bcc_addresses, recipients, status, status_at, last_event_at)
                VALUES (@id, @acceptedAt, @client, @sender, @subject, @list, @priority, @metadata, @sendAt, @size, @signed, @via, @followUpOf,
                    @to, @cc, @bcc, @recipients, @status, @statusAt, @lastAt)
                """);
            AddFacts(insert.Parameters, plan, acceptedAt, recipients);
            insert.Parameters.AddWithValue("status", plan.Status ?? MessageStatuses.Queued);
            insert.Parameters.AddWithValue("statusAt", plan.Status is null ? DateTimeOffset.UnixEpoch : plan.StatusAt);
            insert.Parameters.AddWithValue("lastAt", plan.LastAt);
            batch.BatchCommands.Add(insert);
        }
        else
        {
            // A message first seen without its facts (a webhook, a bounce) takes them, and with them its acceptance time:
            // its row and events move to that day's partition.
            var update = new NpgsqlBatchCommand($"""
                UPDATE log_messages SET client = COALESCE(client, @client),
                    {(withFacts ? "accepted_at = @acceptedAt, sender = @sender, subject = @subject, list = @list, priority = @priority, metadata = @metadata, send_at = @sendAt, size = @size, signed = @signed, via = @via, follow_up_of = @followUpOf, to_addresses = @to, cc_addresses = @cc, bcc_addresses = @bcc, recipients = @recipients,"
                        // The worker's facts and the API's can come in either order: each adds what only it knows.
                        : message is not null ? "via = COALESCE(via, @via), signed = COALESCE(signed, @signed)," : "")}
                    status = CASE WHEN @status::text IS NOT NULL AND @statusAt >= status_at THEN @status::text ELSE status END,
                    status_at = CASE WHEN @status::text IS NOT NULL AND @statusAt >= status_at THEN @statusAt ELSE status_at END,
                    last_event_at = GREATEST(last_event_at, @lastAt)
                WHERE id = @id AND accepted_at = @known
                """);
            AddFacts(update.Parameters, plan, acceptedAt, recipients);
            update.Parameters.Add(new NpgsqlParameter("status", NpgsqlDbType.Text) { Value = (object?)plan.Status ?? DBNull.Value });
            update.Parameters.AddWithValue("statusAt", plan.Status is null ? DateTimeOffset.UnixEpoch : plan.StatusAt);
            update.Parameters.AddWithValue("lastAt", plan.LastAt);
            update.Parameters.AddWithValue("known", known.Value.AcceptedAt);
            batch.BatchCommands.Add(update);
            if (withFacts && known.Value.AcceptedAt != acceptedAt)
            {
                var move = new NpgsqlBatchCommand("UPDATE log_events SET accepted_at = $1 WHERE message_id = $2 AND accepted_at = $3");
                move.Parameters.AddWithValue(acceptedAt);
                move.Parameters.AddWithValue(plan.Id);
                move.Parameters.AddWithValue(known.Value.AcceptedAt);
                batch.BatchCommands.Add(move);
            }
            else
                acceptedAt = known.Value.AcceptedAt;
        }
        if (withFacts)
        {
            // The search's ordered indexes: one row per address and per metadata pair, at the message's acceptance.
            foreach (var address in recipients.Select(r => r.Address).Distinct())
            {
                var row = new NpgsqlBatchCommand("INSERT INTO log_recipients (address, accepted_at, message_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING");
                row.Parameters.AddWithValue(address);
                row.Parameters.AddWithValue(acceptedAt);
                row.Parameters.AddWithValue(plan.Id);
                batch.BatchCommands.Add(row);
            }
            foreach (var (key, value) in message!.Metadata ?? new Dictionary<string, string>())
            {
                var row = new NpgsqlBatchCommand("INSERT INTO log_metadata (key, value, accepted_at, message_id) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING");
                row.Parameters.AddWithValue(key);
                row.Parameters.AddWithValue(value);
                row.Parameters.AddWithValue(acceptedAt);
                row.Parameters.AddWithValue(plan.Id);
                batch.BatchCommands.Add(row);
            }
        }
        foreach (var entry in plan.Events)
        {
            var command = new NpgsqlBatchCommand("""
                INSERT INTO log_events (message_id, accepted_at, key, type, at, details) VALUES ($1, $2, $3, $4, $5, $6::jsonb)
                ON CONFLICT DO NOTHING
                """);
            command.Parameters.AddWithValue(plan.Id);
            command.Parameters.AddWithValue(acceptedAt);
            command.Parameters.AddWithValue(entry.UniqueKey);
            command.Parameters.AddWithValue(entry.Type);
            command.Parameters.AddWithValue(entry.At);
            command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text, Value = (object?)MessagePlan.Json(entry) ?? DBNull.Value });
            batch.BatchCommands.Add(command);
        }
        if (plan.Content is { } content && options.ContentRetention > TimeSpan.Zero)
        {
            var delete = new NpgsqlBatchCommand("DELETE FROM log_contents WHERE message_id = $1");
            delete.Parameters.AddWithValue(plan.Id);
            batch.BatchCommands.Add(delete);
            var insert = new NpgsqlBatchCommand("INSERT INTO log_contents (message_id, expires, text, html, headers) VALUES ($1, $2, $3, $4, $5::jsonb)");
            insert.Parameters.AddWithValue(plan.Id);
            insert.Parameters.AddWithValue(plan.ContentAt!.Value + options.ContentRetention);
            insert.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text, Value = (object?)content.Text ?? DBNull.Value });
            insert.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text, Value = (object?)content.Html ?? DBNull.Value });
            insert.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text, Value = MessagePlan.HeadersJson(content.Headers) });
            batch.BatchCommands.Add(insert);
        }
    }

    private static void AddFacts(NpgsqlParameterCollection parameters, MessagePlan plan, DateTimeOffset acceptedAt, List<MessageRecipient> recipients)
    {
        var message = plan.Message;
        parameters.AddWithValue("id", plan.Id);
        parameters.AddWithValue("acceptedAt", acceptedAt);
        Text(parameters, "client", plan.Client);
        Text(parameters, "sender", LogAddresses.Normalize(message?.From) ?? message?.From);
        Text(parameters, "subject", message?.Subject);
        Text(parameters, "list", message?.List);
        Text(parameters, "priority", message?.Priority);
        parameters.Add(new NpgsqlParameter("metadata", NpgsqlDbType.Jsonb) { Value = (object?)MessagePlan.MetadataJson(message?.Metadata) ?? DBNull.Value });
        parameters.Add(new NpgsqlParameter("sendAt", NpgsqlDbType.TimestampTz) { Value = (object?)message?.SendAt ?? DBNull.Value });
        parameters.Add(new NpgsqlParameter("size", NpgsqlDbType.Bigint) { Value = (object?)message?.Size ?? DBNull.Value });
        parameters.Add(new NpgsqlParameter("signed", NpgsqlDbType.Boolean) { Value = (object?)message?.Signed ?? DBNull.Value });
        Text(parameters, "via", message?.Via);
        Text(parameters, "followUpOf", message?.FollowUpOf);
        parameters.AddWithValue("to", recipients.Where(r => r.Kind == "to").Select(r => r.Address).ToArray());
        parameters.AddWithValue("cc", recipients.Where(r => r.Kind == "cc").Select(r => r.Address).ToArray());
        parameters.AddWithValue("bcc", recipients.Where(r => r.Kind == "bcc").Select(r => r.Address).ToArray());
        parameters.AddWithValue("recipients", recipients.Select(r => r.Address).Distinct().ToArray());
    }

    private static void Text(NpgsqlParameterCollection parameters, string name, string? value) =>
        parameters.Add(new NpgsqlParameter(name, NpgsqlDbType.Text) { Value = (object?)value ?? DBNull.Value });
}
