using System.Text;
using Microsoft.Data.Sqlite;
using Notifications.Core.Store;

namespace Notifications.Core.MessageLog;

/// <summary>A batch of entries written in one transaction on the writer's own connection, its statements prepared once.</summary>
public sealed partial class SqliteMessageLog
{
    public async Task WriteAsync(IReadOnlyList<LogEntry> entries, CancellationToken cancellationToken)
    {
        if (entries.Count == 0)
            return;
        var plans = MessagePlan.Of(entries);
        await _writing.WaitAsync(cancellationToken);
        try
        {
            var connection = _writer ??= Open();
            try
            {
                using var transaction = connection.BeginTransaction();
                foreach (var plan in plans)
                    Write(connection, transaction, plan);
                transaction.Commit();
            }
            catch
            {
                // Whatever failed (a locked or broken file): the next write starts on a new connection, its statements prepared again.
                DropWriter();
                throw;
            }
        }
        finally
        {
            _writing.Release();
        }
    }

    // The writes' own connection, with their statements prepared once (a statement prepared per call cost the writer half its
    // time: bench/README.md). Used only under _writing.
    private SqliteConnection? _writer;
    private readonly Dictionary<string, SqliteCommand> _prepared = new(StringComparer.Ordinal);

    private void DropWriter()
    {
        foreach (var command in _prepared.Values)
            command.Dispose();
        _prepared.Clear();
        _writer?.Dispose();
        _writer = null;
    }

    /// <summary>A statement of the write path, prepared once on the writer's connection, its parameters set by name.</summary>
    private SqliteCommand Prepared(SqliteConnection connection, SqliteTransaction transaction, string sql, IEnumerable<(string Name, object? Value)> parameters)
    {
        var values = parameters.ToList();
        if (!_prepared.TryGetValue(sql, out var command))
        {
            command = connection.CreateCommand();
            command.CommandText = sql;
            foreach (var (name, _) in values)
                command.Parameters.Add(new SqliteParameter { ParameterName = name });
            command.Transaction = transaction;
            command.Prepare();
            _prepared[sql] = command;
        }
        command.Transaction = transaction;
        foreach (var (name, value) in values)
            command.Parameters[name].Value = value ?? DBNull.Value;
        return command;
    }

    private void Write(SqliteConnection connection, SqliteTransaction transaction, MessagePlan plan)
    {
        long seq;
        bool hadFacts;
        using (var reader = Prepared(connection, transaction, "SELECT seq, sender IS NOT NULL FROM log_messages WHERE id = $id", [("$id", plan.Id)]).ExecuteReader())
            (seq, hadFacts) = reader.Read() ? (reader.GetInt64(0), reader.GetBoolean(1)) : (0L, false);
        var message = plan.Message;
        var acceptedAt = plan.AcceptedAt.ToUnixTimeMilliseconds();
        if (seq == 0)
        {
            seq = (long)Prepared(connection, transaction, """
                INSERT INTO log_messages (id, client, sender, subject, list, priority, metadata, send_at, size, signed, via, follow_up_of,
                    status, status_at, accepted_at, last_event_at, expires)
                VALUES ($id, $client, $sender, $subject, $list, $priority, $metadata, $sendAt, $size, $signed, $via, $followUpOf,
                    $status, $statusAt, $acceptedAt, $lastAt, $expires)
                RETURNING seq
                """, FactParameters(plan, acceptedAt).Concat([("$status", plan.Status ?? MessageStatuses.Queued),
                    ("$statusAt", plan.Status is null ? 0L : plan.StatusAt.ToUnixTimeMilliseconds()), ("$lastAt", plan.LastAt.ToUnixTimeMilliseconds())])).ExecuteScalar()!;
        }
        else
        {
            // Facts arrive with the first entry from the job; a message first seen through an entry without them (a webhook,
            // a bounce) takes them when they come. A later status wins; an earlier one (late in the queue) only joins the timeline.
            RunPrepared(connection, transaction, $"""
                UPDATE log_messages SET client = COALESCE(client, $client),
                    {(message is null ? "" : !hadFacts ? "sender = $sender, subject = $subject, list = $list, priority = $priority, metadata = $metadata, send_at = $sendAt, size = $size, signed = $signed, via = $via, follow_up_of = $followUpOf, accepted_at = $acceptedAt, expires = $expires,"
                        // The worker's facts and the API's can come in either order: each adds what only it knows.
                        : "via = COALESCE(via, $via), signed = COALESCE(signed, $signed),")}
                    status = CASE WHEN $status IS NOT NULL AND $statusAt >= status_at THEN $status ELSE status END,
                    status_at = CASE WHEN $status IS NOT NULL AND $statusAt >= status_at THEN $statusAt ELSE status_at END,
                    last_event_at = MAX(last_event_at, $lastAt)
                WHERE seq = $seq
                """, FactParameters(plan, acceptedAt).Concat([("$seq", seq), ("$status", plan.Status),
                    ("$statusAt", plan.StatusAt.ToUnixTimeMilliseconds()), ("$lastAt", plan.LastAt.ToUnixTimeMilliseconds())]));
        }
        if (message is not null && !hadFacts)
        {
            foreach (var recipient in plan.Recipients())
                RunPrepared(connection, transaction, "INSERT OR REPLACE INTO log_recipients (message_seq, address, kind, accepted_at) VALUES ($seq, $address, $kind, $at)",
                    [("$seq", seq), ("$address", recipient.Address), ("$kind", recipient.Kind), ("$at", acceptedAt)]);
            foreach (var (key, value) in message.Metadata ?? new Dictionary<string, string>())
                RunPrepared(connection, transaction, "INSERT OR REPLACE INTO log_metadata (message_seq, key, value, accepted_at) VALUES ($seq, $key, $value, $at)",
                    [("$seq", seq), ("$key", key), ("$value", value), ("$at", acceptedAt)]);
        }
        foreach (var entry in plan.Events)
            RunPrepared(connection, transaction, "INSERT OR IGNORE INTO log_events (message_seq, key, type, at, details) VALUES ($seq, $key, $type, $at, $details)",
                [("$seq", seq), ("$key", entry.UniqueKey), ("$type", entry.Type), ("$at", entry.At.ToUnixTimeMilliseconds()), ("$details", MessagePlan.Json(entry))]);
        if (plan.Content is { } content && options.ContentRetention > TimeSpan.Zero)
            RunPrepared(connection, transaction, "INSERT OR REPLACE INTO log_contents (message_seq, text, html, headers, expires) VALUES ($seq, $text, $html, $headers, $expires)",
                [("$seq", seq), ("$text", content.Text), ("$html", content.Html), ("$headers", MessagePlan.HeadersJson(content.Headers)),
                    ("$expires", (plan.ContentAt!.Value + options.ContentRetention).ToUnixTimeMilliseconds())]);
    }

    private IEnumerable<(string, object?)> FactParameters(MessagePlan plan, long acceptedAt)
    {
        var message = plan.Message;
        return
        [
            ("$id", plan.Id), ("$client", plan.Client), ("$sender", LogAddresses.Normalize(message?.From) ?? message?.From),
            ("$subject", message?.Subject), ("$list", message?.List), ("$priority", message?.Priority),
            ("$metadata", MessagePlan.MetadataJson(message?.Metadata)), ("$sendAt", message?.SendAt?.ToUnixTimeMilliseconds()),
            ("$size", message?.Size), ("$signed", message?.Signed), ("$via", message?.Via), ("$followUpOf", message?.FollowUpOf),
            ("$acceptedAt", acceptedAt), ("$expires", acceptedAt + (long)options.Retention.TotalMilliseconds),
        ];
    }
}
