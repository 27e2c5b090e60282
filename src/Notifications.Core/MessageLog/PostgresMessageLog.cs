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
public sealed partial class PostgresMessageLog(string connectionString, MessageLogOptions options, TimeProvider clock) : IMessageLog
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

    private static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
