using System.Globalization;
using System.Text;
using Npgsql;
using NpgsqlTypes;

namespace Notifications.Core.MessageLog;

/// <summary>
/// The message log in PostgreSQL, shared by every instance of a deployment. Messages, events and contents are partitioned
/// by day (messages and events by acceptance, contents by expiry), so retention drops whole partitions instead of deleting
/// rows; a default partition takes what falls outside the days made so far. A search by recipient or metadata walks a
/// btree of its own ordered by acceptance (<c>log_recipients</c>, <c>log_metadata</c>, partitioned alike) and stops at the
/// page's end; subject words are a <c>tsvector</c> with a GIN index. Writers of one message are serialized by an advisory
/// lock on its id.
/// </summary>
public sealed class PostgresMessageLog(string connectionString, MessageLogOptions options, TimeProvider clock) : IMessageLog
{
    private const int DaysAhead = 3;

    private readonly NpgsqlDataSource _source = NpgsqlDataSource.Create(connectionString);

    public static bool IsConnectionString(string value)
    {
        try
        {
            return new NpgsqlConnectionStringBuilder(value).Host is { Length: > 0 };
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    public string Describe()
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        return $"PostgreSQL {builder.Host}:{builder.Port}/{builder.Database}";
    }

    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        await using var connection = await _source.OpenConnectionAsync(cancellationToken);
        await using (var transaction = await connection.BeginTransactionAsync(cancellationToken))
        {
            // Several instances start at once: one makes the schema, the others wait for it.
            await ExecuteAsync(connection, transaction, "SELECT pg_advisory_xact_lock(7243001)", cancellationToken);
            await ExecuteAsync(connection, transaction, """
                CREATE TABLE IF NOT EXISTS log_messages (
                    id text NOT NULL, accepted_at timestamptz NOT NULL, client text, sender text, subject text,
                    subject_words tsvector GENERATED ALWAYS AS (to_tsvector('simple', coalesce(subject, ''))) STORED,
                    list text, priority text, metadata jsonb, send_at timestamptz, size bigint, signed boolean, via text, follow_up_of text,
                    to_addresses text[] NOT NULL DEFAULT '{}', cc_addresses text[] NOT NULL DEFAULT '{}', bcc_addresses text[] NOT NULL DEFAULT '{}',
                    recipients text[] NOT NULL DEFAULT '{}',
                    status text NOT NULL, status_at timestamptz NOT NULL, last_event_at timestamptz NOT NULL,
                    PRIMARY KEY (accepted_at, id)) PARTITION BY RANGE (accepted_at);
                CREATE INDEX IF NOT EXISTS log_messages_id ON log_messages (id);
                CREATE INDEX IF NOT EXISTS log_messages_order ON log_messages (accepted_at DESC, id DESC);
                CREATE INDEX IF NOT EXISTS log_messages_client ON log_messages (client, accepted_at DESC, id DESC);
                CREATE INDEX IF NOT EXISTS log_messages_sender ON log_messages (sender, accepted_at DESC, id DESC);
                -- Searched through btrees ordered by acceptance (below), which stop at a page's end; a GIN index returns every
                -- match first, and the newest are then sorted out of them (50-85 ms at 1,000,000: bench/README.md).
                DROP INDEX IF EXISTS log_messages_recipients;
                DROP INDEX IF EXISTS log_messages_metadata;
                CREATE TABLE IF NOT EXISTS log_recipients (address text NOT NULL, accepted_at timestamptz NOT NULL, message_id text NOT NULL,
                    PRIMARY KEY (address, accepted_at, message_id)) PARTITION BY RANGE (accepted_at);
                CREATE TABLE IF NOT EXISTS log_recipients_default PARTITION OF log_recipients DEFAULT;
                CREATE TABLE IF NOT EXISTS log_metadata (key text NOT NULL, value text NOT NULL, accepted_at timestamptz NOT NULL, message_id text NOT NULL,
                    PRIMARY KEY (key, value, accepted_at, message_id)) PARTITION BY RANGE (accepted_at);
                CREATE TABLE IF NOT EXISTS log_metadata_default PARTITION OF log_metadata DEFAULT;
                CREATE INDEX IF NOT EXISTS log_messages_subject ON log_messages USING gin (subject_words);
                CREATE TABLE IF NOT EXISTS log_messages_default PARTITION OF log_messages DEFAULT;
                CREATE TABLE IF NOT EXISTS log_events (
                    message_id text NOT NULL, accepted_at timestamptz NOT NULL, key text NOT NULL, seq bigint GENERATED ALWAYS AS IDENTITY,
                    type text NOT NULL, at timestamptz NOT NULL, details jsonb,
                    PRIMARY KEY (accepted_at, message_id, key)) PARTITION BY RANGE (accepted_at);
                CREATE INDEX IF NOT EXISTS log_events_message ON log_events (message_id, at, seq);
                CREATE TABLE IF NOT EXISTS log_events_default PARTITION OF log_events DEFAULT;
                CREATE TABLE IF NOT EXISTS log_contents (
                    message_id text NOT NULL, expires timestamptz NOT NULL, text text, html text, headers jsonb,
                    PRIMARY KEY (expires, message_id)) PARTITION BY RANGE (expires);
                CREATE INDEX IF NOT EXISTS log_contents_message ON log_contents (message_id);
                CREATE TABLE IF NOT EXISTS log_contents_default PARTITION OF log_contents DEFAULT;
                """, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
        await EnsurePartitionsAsync(connection, clock.GetUtcNow(), cancellationToken);
    }

    /// <summary>A partition per day from the oldest still kept to a few days ahead, for each table.</summary>
    private async Task EnsurePartitionsAsync(NpgsqlConnection connection, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var today = new DateTimeOffset(now.UtcDateTime.Date, TimeSpan.Zero);
        var first = today - options.Retention - TimeSpan.FromDays(1);
        foreach (var (table, from) in new[] { ("log_messages", first), ("log_events", first), ("log_recipients", first), ("log_metadata", first), ("log_contents", today) })
            for (var day = new DateTimeOffset(from.UtcDateTime.Date, TimeSpan.Zero); day <= today.AddDays(DaysAhead); day = day.AddDays(1))
            {
                var name = PartitionName(table, day);
                if (await ExistsAsync(connection, name, cancellationToken))
                    continue;
                try
                {
                    // Rows already in the default partition for that day would make the new one fail; they stay where they are
                    // (still searched, deleted by the purge's row delete), and the day goes without a partition of its own.
                    await ExecuteAsync(connection, null, $"CREATE TABLE IF NOT EXISTS {name} PARTITION OF {table} FOR VALUES FROM ('{Day(day)}') TO ('{Day(day.AddDays(1))}')",
                        cancellationToken);
                }
                catch (PostgresException ex) when (ex.SqlState is PostgresErrorCodes.CheckViolation or PostgresErrorCodes.UniqueViolation
                    or PostgresErrorCodes.DuplicateTable or PostgresErrorCodes.InvalidObjectDefinition)
                {
                }
            }
    }

    private static string PartitionName(string table, DateTimeOffset day) => $"{table}_{day.UtcDateTime:yyyyMMdd}";

    private static string Day(DateTimeOffset day) => day.UtcDateTime.ToString("yyyy-MM-dd'T'00:00:00'Z'", CultureInfo.InvariantCulture);

    private static async Task<bool> ExistsAsync(NpgsqlConnection connection, string table, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT to_regclass($1) IS NOT NULL", connection);
        command.Parameters.AddWithValue(table);
        return (bool)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

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
                    {(withFacts ? "accepted_at = @acceptedAt, sender = @sender, subject = @subject, list = @list, priority = @priority, metadata = @metadata, send_at = @sendAt, size = @size, signed = @signed, via = @via, follow_up_of = @followUpOf, to_addresses = @to, cc_addresses = @cc, bcc_addresses = @bcc, recipients = @recipients," : "")}
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

    private const string Columns = "m.id, m.client, m.sender, m.subject, m.status, m.accepted_at, m.last_event_at, m.list, m.priority, m.metadata::text, " +
        "m.send_at, m.size, m.signed, m.via, m.follow_up_of, m.to_addresses, m.cc_addresses, m.bcc_addresses, " +
        "EXISTS (SELECT 1 FROM log_contents c WHERE c.message_id = m.id AND c.expires > @now)";

    /// <summary>
    /// The message of each row the driving index gives, looked up row by row (LATERAL, kept from being flattened by
    /// OFFSET 0): joined plainly, the planner misjudged the join as one row, joined every match and sorted them (a tenant's
    /// 10,000 messages: 345 ms at 1,000,000); this way the index's newest-first walk stops at the page's end (2 ms).
    /// </summary>
    private const string MessageOf =
        "CROSS JOIN LATERAL (SELECT * FROM log_messages m0 WHERE m0.accepted_at = d.accepted_at AND m0.id = d.message_id OFFSET 0) m";

    public async Task<MessagePage> SearchAsync(MessageQuery query, CancellationToken cancellationToken)
    {
        await using var connection = await _source.OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand { Connection = connection };
        // A recipient or a metadata pair drives the search through its ordered btree (newest first, stopping at the page's
        // end); the other filters are checked on the rows it walks.
        var metadata = query.Metadata;
        string time, id;
        var sql = new StringBuilder($"SELECT {Columns}");
        if (query.Recipient is not null)
        {
            sql.Append($" FROM log_recipients d {MessageOf} WHERE d.address = @recipient");
            command.Parameters.AddWithValue("recipient", query.Recipient);
            (time, id) = ("d.accepted_at", "d.message_id");
        }
        else if (metadata.Count > 0)
        {
            sql.Append($" FROM log_metadata d {MessageOf} WHERE d.key = @dk AND d.value = @dv");
            command.Parameters.AddWithValue("dk", metadata[0].Key);
            command.Parameters.AddWithValue("dv", metadata[0].Value);
            metadata = [.. metadata.Skip(1)];
            (time, id) = ("d.accepted_at", "d.message_id");
        }
        else
        {
            sql.Append(" FROM log_messages m WHERE true");
            (time, id) = ("m.accepted_at", "m.id");
        }
        var now = clock.GetUtcNow();
        sql.Append($" AND {time} > @oldest");
        command.Parameters.AddWithValue("now", now);
        command.Parameters.AddWithValue("oldest", now - options.Retention);
        void Where(string condition, string name, object value)
        {
            sql.Append(" AND ").Append(condition);
            command.Parameters.AddWithValue(name, value);
        }
        if (query.Client is not null)
            Where("m.client = @client", "client", query.Client);
        if (query.From is not null)
            Where("m.sender = @from", "from", query.From);
        if (query.Status is not null)
            Where("m.status = @status", "status", query.Status);
        if (query.List is not null)
            Where("m.list = @list", "list", query.List);
        if (metadata.Count > 0)
        {
            sql.Append(" AND m.metadata @> @metadata");
            command.Parameters.Add(new NpgsqlParameter("metadata", NpgsqlDbType.Jsonb)
            {
                Value = MessagePlan.MetadataJson(metadata.GroupBy(p => p.Key).ToDictionary(g => g.Key, g => g.Last().Value))!,
            });
        }
        if (query.Subject is not null)
            Where("m.subject_words @@ to_tsquery('simple', @subject)", "subject", TsQuery(query.Subject));
        if (query.Since is { } since)
            Where($"{time} >= @since", "since", since);
        if (query.Until is { } until)
            Where($"{time} < @until", "until", until);
        if (query.After is { } after)
        {
            sql.Append($" AND ({time}, {id}) < (@afterAt, @afterId)");
            command.Parameters.AddWithValue("afterAt", DateTimeOffset.FromUnixTimeMilliseconds(after.AcceptedAtMs));
            command.Parameters.AddWithValue("afterId", after.Id);
        }
        sql.Append($" ORDER BY {time} DESC, {id} DESC LIMIT @limit");
        command.Parameters.AddWithValue("limit", query.Limit + 1);
        command.CommandText = sql.ToString();
        var items = new List<MessageSummary>();
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
            while (await reader.ReadAsync(cancellationToken))
                items.Add(ReadSummary(reader));
        MessagePosition? next = null;
        if (items.Count > query.Limit)
        {
            items.RemoveAt(items.Count - 1);
            next = new MessagePosition(items[^1].AcceptedAt.ToUnixTimeMilliseconds(), items[^1].Id);
        }
        return new MessagePage(items, next);
    }

    /// <summary>Each word a lexeme of its own, all required; a trailing * a prefix (<c>:*</c>).</summary>
    private static string TsQuery(string subject) =>
        string.Join(" & ", LogAddresses.Words(subject).Select(w => "'" + w.Word.Replace("'", "''").Replace("\\", "\\\\") + "'" + (w.Prefix ? ":*" : "")));

    private static MessageSummary ReadSummary(NpgsqlDataReader reader)
    {
        string? Text(int i) => reader.IsDBNull(i) ? null : reader.GetString(i);
        var recipients = new List<MessageRecipient>();
        foreach (var (kind, at) in new[] { ("to", 15), ("cc", 16), ("bcc", 17) })
            recipients.AddRange(reader.GetFieldValue<string[]>(at).Select(a => new MessageRecipient(a, kind)));
        return new MessageSummary(reader.GetString(0), Text(1), Text(2), recipients, Text(3), reader.GetString(4),
            reader.GetFieldValue<DateTimeOffset>(5), reader.GetFieldValue<DateTimeOffset>(6))
        {
            List = Text(7),
            Priority = Text(8),
            Metadata = MessagePlan.MetadataOf(Text(9)),
            SendAt = reader.IsDBNull(10) ? null : reader.GetFieldValue<DateTimeOffset>(10),
            Size = reader.IsDBNull(11) ? null : reader.GetInt64(11),
            Signed = reader.IsDBNull(12) ? null : reader.GetBoolean(12),
            Via = Text(13),
            FollowUpOf = Text(14),
            HasContent = reader.GetBoolean(18),
        };
    }

    private async Task<MessageSummary?> FindAsync(NpgsqlConnection connection, string id, string? client, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand($"SELECT {Columns} FROM log_messages m WHERE m.id = @id AND m.accepted_at > @oldest AND (@client::text IS NULL OR m.client = @client::text) LIMIT 1", connection);
        command.Parameters.AddWithValue("id", id);
        command.Parameters.AddWithValue("now", clock.GetUtcNow());
        command.Parameters.AddWithValue("oldest", clock.GetUtcNow() - options.Retention);
        command.Parameters.Add(new NpgsqlParameter("client", NpgsqlDbType.Text) { Value = (object?)client ?? DBNull.Value });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? ReadSummary(reader) : null;
    }

    public async Task<LoggedMessageView?> GetAsync(string id, string? client, CancellationToken cancellationToken)
    {
        await using var connection = await _source.OpenConnectionAsync(cancellationToken);
        if (await FindAsync(connection, id, client, cancellationToken) is not { } summary)
            return null;
        var events = new List<LoggedEvent>();
        await using var command = new NpgsqlCommand("SELECT type, at, details::text FROM log_events WHERE message_id = $1 AND accepted_at = $2 ORDER BY at, seq", connection);
        command.Parameters.AddWithValue(id);
        command.Parameters.AddWithValue(summary.AcceptedAt);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            events.Add(new LoggedEvent(reader.GetString(0), reader.GetFieldValue<DateTimeOffset>(1), MessagePlan.DetailsOf(reader.IsDBNull(2) ? null : reader.GetString(2))));
        return new LoggedMessageView(summary, events);
    }

    public async Task<ContentLookup> GetContentAsync(string id, string? client, CancellationToken cancellationToken)
    {
        await using var connection = await _source.OpenConnectionAsync(cancellationToken);
        if (await FindAsync(connection, id, client, cancellationToken) is null)
            return ContentLookup.Unknown;
        await using var command = new NpgsqlCommand("SELECT text, html, headers::text FROM log_contents WHERE message_id = $1 AND expires > $2 LIMIT 1", connection);
        command.Parameters.AddWithValue(id);
        command.Parameters.AddWithValue(clock.GetUtcNow());
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? new ContentLookup(true, new LoggedContent(reader.IsDBNull(0) ? null : reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetString(1),
                MessagePlan.HeadersOf(reader.IsDBNull(2) ? null : reader.GetString(2))))
            : ContentLookup.Gone;
    }

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

    private static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
