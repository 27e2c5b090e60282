using System.Text;
using Microsoft.Data.Sqlite;
using Notifications.Core.Store;

namespace Notifications.Core.MessageLog;

/// <summary>Searches, a message with its events, its content.</summary>
public sealed partial class SqliteMessageLog
{
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
}
