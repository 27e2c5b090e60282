using System.Globalization;
using System.Text;
using Npgsql;
using NpgsqlTypes;

namespace Notifications.Core.MessageLog;

/// <summary>Searches, a message with its events, its content.</summary>
public sealed partial class PostgresMessageLog
{
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
}
