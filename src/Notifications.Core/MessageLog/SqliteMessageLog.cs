using System.Text;
using Microsoft.Data.Sqlite;
using Notifications.Core.Store;

namespace Notifications.Core.MessageLog;

/// <summary>
/// The message log in a SQLite file (WAL) of its own, beside the job store's: one machine. Subjects are searched with
/// FTS5 (an external-content index kept by triggers); recipients and metadata have index tables of their own, each
/// ordered by acceptance so a search walks the newest first. Writes are serialized inside the process; deletes go in
/// chunks so a purge never holds the write lock for long.
/// </summary>
public sealed class SqliteMessageLog(string path, MessageLogOptions options, TimeProvider clock) : IMessageLog
{
    private const int DeleteChunk = 2_000;

    private readonly string _connectionString = new SqliteConnectionStringBuilder
    {
        DataSource = path,
        Mode = SqliteOpenMode.ReadWriteCreate,
        Pooling = true,
        DefaultTimeout = 30,
    }.ToString();

    private readonly SemaphoreSlim _writing = new(1, 1);

    public string Describe() => "SQLite " + path;

    public Task InitializeAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!);
        using var connection = Open();
        Execute(connection, """
            PRAGMA journal_mode = WAL;
            PRAGMA synchronous = NORMAL;
            CREATE TABLE IF NOT EXISTS log_messages (
                seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, client TEXT, sender TEXT, subject TEXT, list TEXT, priority TEXT,
                metadata TEXT, send_at INTEGER, size INTEGER, signed INTEGER, via TEXT, follow_up_of TEXT,
                status TEXT NOT NULL, status_at INTEGER NOT NULL, accepted_at INTEGER NOT NULL, last_event_at INTEGER NOT NULL,
                expires INTEGER NOT NULL);
            CREATE INDEX IF NOT EXISTS log_messages_order ON log_messages (accepted_at DESC, id DESC);
            CREATE INDEX IF NOT EXISTS log_messages_client ON log_messages (client, accepted_at DESC, id DESC);
            CREATE INDEX IF NOT EXISTS log_messages_sender ON log_messages (sender, accepted_at DESC, id DESC);
            -- Kept by acceptance time against the retention of now (a shorter MessageLog:Retention applies to what is there):
            -- the order index serves the purge's range too.
            DROP INDEX IF EXISTS log_messages_expires;
            CREATE TABLE IF NOT EXISTS log_recipients (message_seq INTEGER NOT NULL, address TEXT NOT NULL, kind TEXT NOT NULL,
                accepted_at INTEGER NOT NULL, PRIMARY KEY (message_seq, kind, address)) WITHOUT ROWID;
            CREATE INDEX IF NOT EXISTS log_recipients_address ON log_recipients (address, accepted_at DESC, message_seq);
            CREATE TABLE IF NOT EXISTS log_metadata (message_seq INTEGER NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
                accepted_at INTEGER NOT NULL, PRIMARY KEY (message_seq, key)) WITHOUT ROWID;
            CREATE INDEX IF NOT EXISTS log_metadata_value ON log_metadata (key, value, accepted_at DESC, message_seq);
            CREATE TABLE IF NOT EXISTS log_events (message_seq INTEGER NOT NULL, key TEXT NOT NULL, type TEXT NOT NULL, at INTEGER NOT NULL,
                details TEXT, UNIQUE (message_seq, key));
            CREATE TABLE IF NOT EXISTS log_contents (message_seq INTEGER PRIMARY KEY, text TEXT, html TEXT, headers TEXT, expires INTEGER NOT NULL);
            CREATE INDEX IF NOT EXISTS log_contents_expires ON log_contents (expires);
            CREATE VIRTUAL TABLE IF NOT EXISTS log_subjects USING fts5 (subject, content = 'log_messages', content_rowid = 'seq');
            CREATE TRIGGER IF NOT EXISTS log_messages_ai AFTER INSERT ON log_messages BEGIN
                INSERT INTO log_subjects (rowid, subject) VALUES (new.seq, new.subject); END;
            CREATE TRIGGER IF NOT EXISTS log_messages_ad AFTER DELETE ON log_messages BEGIN
                INSERT INTO log_subjects (log_subjects, rowid, subject) VALUES ('delete', old.seq, old.subject); END;
            CREATE TRIGGER IF NOT EXISTS log_messages_au AFTER UPDATE OF subject ON log_messages BEGIN
                INSERT INTO log_subjects (log_subjects, rowid, subject) VALUES ('delete', old.seq, old.subject);
                INSERT INTO log_subjects (rowid, subject) VALUES (new.seq, new.subject); END;
            """);
        return Task.CompletedTask;
    }

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
                    {(message is not null && !hadFacts ? "sender = $sender, subject = $subject, list = $list, priority = $priority, metadata = $metadata, send_at = $sendAt, size = $size, signed = $signed, via = $via, follow_up_of = $followUpOf, accepted_at = $acceptedAt, expires = $expires," : "")}
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

    /// <summary>
    /// A search walks one index newest first and stops at the page's end: the recipient's (or the first metadata pair's)
    /// rows ordered by acceptance when it names one, else the messages' own order. The other filters are checked on the
    /// rows it walks. So a page costs about the same at a million messages as at ten thousand.
    /// </summary>
    public Task<MessagePage> SearchAsync(MessageQuery query, CancellationToken cancellationToken)
    {
        var parameters = new List<(string, object?)> { ("$now", clock.GetUtcNow().ToUnixTimeMilliseconds()), ("$oldest", Oldest()) };
        var metadata = query.Metadata;
        string time;
        var sql = new StringBuilder("SELECT m.seq, ").Append(Columns);
        if (query.Recipient is not null)
        {
            sql.Append(" FROM log_recipients d JOIN log_messages m ON m.seq = d.message_seq WHERE d.address = $recipient");
            parameters.Add(("$recipient", query.Recipient));
            time = "d.accepted_at";
        }
        else if (metadata.Count > 0)
        {
            sql.Append(" FROM log_metadata d JOIN log_messages m ON m.seq = d.message_seq WHERE d.key = $dk AND d.value = $dv");
            parameters.Add(("$dk", metadata[0].Key));
            parameters.Add(("$dv", metadata[0].Value));
            metadata = [.. metadata.Skip(1)];
            time = "d.accepted_at";
        }
        else
        {
            sql.Append(" FROM log_messages m WHERE 1 = 1");
            time = "m.accepted_at";
        }
        Where(sql, parameters, $"{time} > $oldest");
        if (query.Client is not null)
            Where(sql, parameters, "m.client = $client", ("$client", query.Client));
        if (query.From is not null)
            Where(sql, parameters, "m.sender = $from", ("$from", query.From));
        if (query.Status is not null)
            Where(sql, parameters, "m.status = $status", ("$status", query.Status));
        if (query.List is not null)
            Where(sql, parameters, "m.list = $list", ("$list", query.List));
        for (var i = 0; i < metadata.Count; i++)
            Where(sql, parameters, $"EXISTS (SELECT 1 FROM log_metadata x WHERE x.message_seq = m.seq AND x.key = $mk{i} AND x.value = $mv{i})",
                ($"$mk{i}", metadata[i].Key), ($"$mv{i}", metadata[i].Value));
        if (query.Subject is not null)
            Where(sql, parameters, "m.seq IN (SELECT rowid FROM log_subjects WHERE log_subjects MATCH $subject)", ("$subject", FtsQuery(query.Subject)));
        if (query.Since is { } since)
            Where(sql, parameters, $"{time} >= $since", ("$since", since.ToUnixTimeMilliseconds()));
        if (query.Until is { } until)
            Where(sql, parameters, $"{time} < $until", ("$until", until.ToUnixTimeMilliseconds()));
        if (query.After is { } after)
            Where(sql, parameters, $"({time} < $afterAt OR ({time} = $afterAt AND m.id < $afterId))", ("$afterAt", after.AcceptedAtMs), ("$afterId", after.Id));
        // An address that is both to and cc of one message is two rows of its index: read a few more, keep each message once.
        sql.Append($" ORDER BY {time} DESC, m.id DESC LIMIT $limit");
        parameters.Add(("$limit", query.Recipient is null ? query.Limit + 1 : 2 * (query.Limit + 1)));
        using var connection = Open();
        var rows = new List<(long Seq, MessageSummary Summary)>();
        var seen = new HashSet<long>();
        using (var command = Command(connection, sql.ToString(), [.. parameters]))
        using (var reader = command.ExecuteReader())
            while (rows.Count <= query.Limit && reader.Read())
                if (seen.Add(reader.GetInt64(0)))
                    rows.Add((reader.GetInt64(0), ReadSummary(reader, 1, [])));
        var next = rows.Count > query.Limit ? new MessagePosition(rows[query.Limit - 1].Summary.AcceptedAt.ToUnixTimeMilliseconds(), rows[query.Limit - 1].Summary.Id) : (MessagePosition?)null;
        if (rows.Count > query.Limit)
            rows.RemoveAt(rows.Count - 1);
        var recipients = RecipientsOf(connection, rows.Select(r => r.Seq));
        return Task.FromResult(new MessagePage([.. rows.Select(r => r.Summary with { Recipients = recipients.GetValueOrDefault(r.Seq) ?? [] })], next));
    }

    private static void Where(StringBuilder sql, List<(string, object?)> parameters, string condition, params (string, object?)[] values)
    {
        sql.Append(" AND ").Append(condition);
        parameters.AddRange(values);
    }

    /// <summary>Each word quoted (nothing in it is FTS syntax), all of them required; a trailing * a prefix.</summary>
    private static string FtsQuery(string subject) =>
        string.Join(' ', LogAddresses.Words(subject).Select(w => "\"" + w.Word.Replace("\"", "\"\"") + "\"" + (w.Prefix ? "*" : "")));

    private const string Columns = "m.id, m.client, m.sender, m.subject, m.status, m.accepted_at, m.last_event_at, m.list, m.priority, m.metadata, " +
        "m.send_at, m.size, m.signed, m.via, m.follow_up_of, EXISTS (SELECT 1 FROM log_contents c WHERE c.message_seq = m.seq AND c.expires > $now)";

    private static MessageSummary ReadSummary(SqliteDataReader reader, int at, IReadOnlyList<MessageRecipient> recipients) => new(
        reader.GetString(at), Text(reader, at + 1), Text(reader, at + 2), recipients, Text(reader, at + 3), reader.GetString(at + 4),
        DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(at + 5)), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(at + 6)))
    {
        List = Text(reader, at + 7),
        Priority = Text(reader, at + 8),
        Metadata = MessagePlan.MetadataOf(Text(reader, at + 9)),
        SendAt = reader.IsDBNull(at + 10) ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(at + 10)),
        Size = reader.IsDBNull(at + 11) ? null : reader.GetInt64(at + 11),
        Signed = reader.IsDBNull(at + 12) ? null : reader.GetBoolean(at + 12),
        Via = Text(reader, at + 13),
        FollowUpOf = Text(reader, at + 14),
        HasContent = reader.GetBoolean(at + 15),
    };

    private static string? Text(SqliteDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    private static Dictionary<long, List<MessageRecipient>> RecipientsOf(SqliteConnection connection, IEnumerable<long> seqs)
    {
        var list = seqs.ToList();
        var found = new Dictionary<long, List<MessageRecipient>>();
        if (list.Count == 0)
            return found;
        using var command = Command(connection,
            $"SELECT message_seq, address, kind FROM log_recipients WHERE message_seq IN ({string.Join(',', list)}) ORDER BY message_seq, CASE kind WHEN 'to' THEN 0 WHEN 'cc' THEN 1 ELSE 2 END, address");
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            if (!found.TryGetValue(reader.GetInt64(0), out var recipients))
                found[reader.GetInt64(0)] = recipients = [];
            recipients.Add(new MessageRecipient(reader.GetString(1), reader.GetString(2)));
        }
        return found;
    }

    public Task<LoggedMessageView?> GetAsync(string id, string? client, CancellationToken cancellationToken)
    {
        using var connection = Open();
        if (Find(connection, id, client) is not { } found)
            return Task.FromResult<LoggedMessageView?>(null);
        var events = new List<LoggedEvent>();
        using (var command = Command(connection, "SELECT type, at, details FROM log_events WHERE message_seq = $seq ORDER BY at, rowid", ("$seq", found.Seq)))
        using (var reader = command.ExecuteReader())
            while (reader.Read())
                events.Add(new LoggedEvent(reader.GetString(0), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(1)), MessagePlan.DetailsOf(Text(reader, 2))));
        var recipients = RecipientsOf(connection, [found.Seq]).GetValueOrDefault(found.Seq) ?? [];
        return Task.FromResult<LoggedMessageView?>(new LoggedMessageView(found.Summary with { Recipients = recipients }, events));
    }

    private (long Seq, MessageSummary Summary)? Find(SqliteConnection connection, string id, string? client)
    {
        using var command = Command(connection, $"SELECT m.seq, {Columns} FROM log_messages m WHERE m.id = $id AND m.accepted_at > $oldest AND ($client IS NULL OR m.client = $client)",
            ("$id", id), ("$now", clock.GetUtcNow().ToUnixTimeMilliseconds()), ("$oldest", Oldest()), ("$client", client));
        using var reader = command.ExecuteReader();
        return reader.Read() ? (reader.GetInt64(0), ReadSummary(reader, 1, [])) : null;
    }

    public Task<ContentLookup> GetContentAsync(string id, string? client, CancellationToken cancellationToken)
    {
        using var connection = Open();
        if (Find(connection, id, client) is not { } found)
            return Task.FromResult(ContentLookup.Unknown);
        using var command = Command(connection, "SELECT text, html, headers FROM log_contents WHERE message_seq = $seq AND expires > $now",
            ("$seq", found.Seq), ("$now", clock.GetUtcNow().ToUnixTimeMilliseconds()));
        using var reader = command.ExecuteReader();
        return Task.FromResult(reader.Read()
            ? new ContentLookup(true, new LoggedContent(Text(reader, 0), Text(reader, 1), MessagePlan.HeadersOf(Text(reader, 2))))
            : ContentLookup.Gone);
    }

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

    /// <summary>The oldest acceptance still kept: now less <c>MessageLog:Retention</c>.</summary>
    private long Oldest() => (clock.GetUtcNow() - options.Retention).ToUnixTimeMilliseconds();

    private SqliteConnection Open() => SqliteCommands.Open(_connectionString);

    private static SqliteCommand Command(SqliteConnection connection, string sql, params (string Name, object? Value)[] parameters) =>
        SqliteCommands.Command(connection, sql, parameters);

    private static void Execute(SqliteConnection connection, string sql) => SqliteCommands.Execute(connection, sql);

    private int RunPrepared(SqliteConnection connection, SqliteTransaction transaction, string sql, IEnumerable<(string, object?)> parameters) =>
        Prepared(connection, transaction, sql, parameters).ExecuteNonQuery();

    private static int Run(SqliteConnection connection, SqliteTransaction transaction, string sql, IEnumerable<(string, object?)> parameters)
    {
        using var command = Command(connection, sql, [.. parameters]);
        command.Transaction = transaction;
        return command.ExecuteNonQuery();
    }
}
