using System.Diagnostics;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;
using Notifications.Core.MessageLog;
using Npgsql;
using NpgsqlTypes;

namespace Notifications.Bench;

/// <summary>
/// The message log's own figures, per store: how fast its writer writes (the store's own write path, entries as the worker
/// sends them), how fast searches and a message's page answer at 10,000 and at N messages, and how long purging one day
/// takes with searches running meanwhile. The N messages are loaded in bulk (SQLite: prepared inserts in large
/// transactions; PostgreSQL: COPY) into the store's own schema, made by the store: the loader is a load generator, the
/// searches are the store's.
/// </summary>
/// <param name="newTarget">a fresh place for a store: a SQLite file's path, or a new database's connection string.</param>
/// <param name="open">the store on a target.</param>
public sealed class MessageLogRun(string name, bool postgres, Func<Task<string>> newTarget, Func<MessageLogOptions, string, IMessageLog> open)
{
    public const int Recipients = 5_000;
    public const int Tenants = 100;
    public const int Days = 10;
    private const int Samples = 200;

    private static readonly string[] Words =
    [
        .. "invoice receipt order shipped delivered password reset welcome weekly digest statement account security alert login code verify confirm subscription renewal trial expired payment failed refund cancelled update profile newsletter offer sale spring summer autumn winter report monthly quarterly annual reminder meeting event ticket booking travel flight hotel"
            .Split(' '),
    ];

    public async Task<MessageLogFigures> RunAsync(int large)
    {
        var writer = await WriterAsync();
        var small = await SearchAsync(10_000, purge: false);
        var big = await SearchAsync(large, purge: true);
        return new MessageLogFigures(name, writer, small, big);
    }

    /// <summary>Messages per second through the store's own write path: accepted, attempt and sent per message, batches of 500.</summary>
    private async Task<double> WriterAsync()
    {
        var (log, _) = await FreshAsync(new MessageLogOptions());
        const int messages = 20_000;
        var now = DateTimeOffset.UtcNow;
        var batches = Enumerable.Range(0, messages).Chunk(500 / 3).Select(chunk => chunk.SelectMany(i => EntriesOf(i, now)).ToList()).ToList();
        await log.WriteAsync(batches[0], CancellationToken.None); // the first: schema, connections, JIT
        var watch = Stopwatch.StartNew();
        foreach (var batch in batches.Skip(1))
            await log.WriteAsync(batch, CancellationToken.None);
        return (messages - batches[0].Count / 3) / watch.Elapsed.TotalSeconds;
    }

    private static IEnumerable<LogEntry> EntriesOf(int i, DateTimeOffset now)
    {
        var id = $"w-{i}";
        var at = now.AddMilliseconds(i);
        yield return new LogEntry(id, LogEntryTypes.Accepted, at)
        {
            Client = "bench", Key = "accepted", Details = new JsonObject { ["via"] = "http" },
            Message = new LoggedMessage(at, "no-reply@example.com", Subject(i)) { To = [Recipient(i)], Cc = [Recipient(i + 7)], Metadata = Metadata(i), Via = "http" },
        };
        yield return new LogEntry(id, LogEntryTypes.Attempt, at.AddMilliseconds(5))
        {
            Client = "bench", Key = "attempt:0:1",
            Details = new JsonObject { ["relay"] = "relay:25", ["tls"] = true, ["durationMs"] = 3.2,
                ["recipients"] = new JsonArray(new JsonObject { ["address"] = Recipient(i), ["reply"] = "2.0.0 Ok: queued" }) },
            Content = new LoggedContent("Thanks for your order.", "<p>Thanks for your order.</p>", [new LoggedHeader("Subject", Subject(i))]),
        };
        yield return new LogEntry(id, LogEntryTypes.Sent, at.AddMilliseconds(6)) { Client = "bench", Key = "sent:0:1", Details = new JsonObject { ["attempt"] = 1 } };
    }

    private static string Recipient(int i) => $"user{i % Recipients}@example{i % 50}.com";

    private static string Subject(int i) =>
        $"{Words[i % Words.Length]} {Words[i / 7 % Words.Length]} {Words[i / 49 % Words.Length]} number {i % 1000}";

    private static Dictionary<string, string> Metadata(int i) => new() { ["tenant"] = $"t{i % Tenants}", ["orderId"] = $"o{i}" };

    private async Task<(IMessageLog Log, string Target)> FreshAsync(MessageLogOptions options)
    {
        var target = await newTarget();
        var log = open(options, target);
        await log.InitializeAsync(CancellationToken.None);
        return (log, target);
    }

    private async Task<SearchFigures> SearchAsync(int count, bool purge)
    {
        var options = new MessageLogOptions { Retention = TimeSpan.FromDays(30) };
        var (log, target) = await FreshAsync(options);
        var now = DateTimeOffset.UtcNow;
        var loading = Stopwatch.StartNew();
        await LoadAsync(target, count, now);
        var loaded = loading.Elapsed.TotalSeconds;
        var random = new Random(42);
        var figures = new Dictionary<string, Percentile>
        {
            ["recipient"] = await TimeAsync(() => log.SearchAsync(new MessageQuery(50) { Recipient = Recipient(random.Next(Recipients)) }, CancellationToken.None)),
            ["metadata (tenant: 1 in 100)"] = await TimeAsync(() => log.SearchAsync(new MessageQuery(50)
                { Metadata = [new("tenant", $"t{random.Next(Tenants)}")] }, CancellationToken.None)),
            ["metadata (orderId: one)"] = await TimeAsync(() => log.SearchAsync(new MessageQuery(50)
                { Metadata = [new("orderId", $"o{random.Next(count)}")] }, CancellationToken.None)),
            ["subject words (two)"] = await TimeAsync(() => log.SearchAsync(new MessageQuery(50)
                { Subject = $"{Words[random.Next(Words.Length)]} {Words[random.Next(Words.Length)]}" }, CancellationToken.None)),
            ["a message's page"] = await TimeAsync(() => log.GetAsync($"m-{random.Next(count)}", null, CancellationToken.None)),
        };
        PurgeFigures? purged = null;
        if (purge)
        {
            // The oldest of the days loaded falls out of a retention that keeps the others.
            var shorter = new MessageLogOptions { Retention = TimeSpan.FromDays(Days - 1) - TimeSpan.FromHours(1) };
            var purging = open(shorter, target);
            await purging.InitializeAsync(CancellationToken.None);
            var during = new List<double>();
            using var stop = new CancellationTokenSource();
            var searches = Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    var watch = Stopwatch.StartNew();
                    await log.SearchAsync(new MessageQuery(50) { Recipient = Recipient(random.Next(Recipients)) }, CancellationToken.None);
                    lock (during)
                        during.Add(watch.Elapsed.TotalMilliseconds);
                }
            });
            var took = Stopwatch.StartNew();
            var result = await purging.PurgeAsync(now, CancellationToken.None);
            var seconds = took.Elapsed.TotalSeconds;
            stop.Cancel();
            await searches;
            purged = new PurgeFigures(result.Messages, seconds, Percentiles(during));
        }
        return new SearchFigures(count, loaded, figures, purged);
    }

    private static async Task<Percentile> TimeAsync<T>(Func<Task<T>> search)
    {
        for (var i = 0; i < 10; i++)
            await search();
        var times = new List<double>(Samples);
        for (var i = 0; i < Samples; i++)
        {
            var watch = Stopwatch.StartNew();
            await search();
            times.Add(watch.Elapsed.TotalMilliseconds);
        }
        return Percentiles(times);
    }

    private static Percentile Percentiles(List<double> times)
    {
        if (times.Count == 0)
            return new Percentile(0, 0, 0, 0);
        times.Sort();
        double At(double p) => times[Math.Min(times.Count - 1, (int)(p * times.Count))];
        return new Percentile(At(0.50), At(0.95), At(0.99), times[^1]);
    }

    /// <summary><paramref name="count"/> messages over the last <see cref="Days"/> days, newest now, each accepted, attempted, sent.</summary>
    private async Task LoadAsync(string target, int count, DateTimeOffset now)
    {
        var spacing = TimeSpan.FromDays(Days).Ticks / count;
        DateTimeOffset AcceptedAt(int i) => now - TimeSpan.FromTicks(spacing * (count - i)) + TimeSpan.FromMinutes(1);
        if (postgres)
            await LoadPostgresAsync(target, count, AcceptedAt);
        else
            LoadSqlite(target, count, AcceptedAt);
    }

    private static void LoadSqlite(string path, int count, Func<int, DateTimeOffset> acceptedAt)
    {
        using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        connection.Open();
        using (var pragma = connection.CreateCommand())
        {
            pragma.CommandText = "PRAGMA synchronous = OFF";
            pragma.ExecuteNonQuery();
        }
        SqliteCommand Prepare(string sql, params string[] names)
        {
            var command = connection.CreateCommand();
            command.CommandText = sql;
            foreach (var parameter in names)
                command.Parameters.Add(new SqliteParameter(parameter, null));
            return command;
        }
        using var message = Prepare("""
            INSERT INTO log_messages (id, client, sender, subject, metadata, status, status_at, accepted_at, last_event_at, expires, via)
            VALUES ($id, 'bench', 'no-reply@example.com', $subject, $metadata, 'sent', $at, $at, $at, $expires, 'http') RETURNING seq
            """, "$id", "$subject", "$metadata", "$at", "$expires");
        using var recipient = Prepare("INSERT OR IGNORE INTO log_recipients (message_seq, address, kind, accepted_at) VALUES ($seq, $address, $kind, $at)",
            "$seq", "$address", "$kind", "$at");
        using var meta = Prepare("INSERT INTO log_metadata (message_seq, key, value, accepted_at) VALUES ($seq, $key, $value, $at)", "$seq", "$key", "$value", "$at");
        using var ev = Prepare("INSERT INTO log_events (message_seq, key, type, at, details) VALUES ($seq, $key, $type, $at, $details)",
            "$seq", "$key", "$type", "$at", "$details");
        SqliteTransaction? transaction = null;
        for (var i = 0; i < count; i++)
        {
            if (i % 20_000 == 0)
            {
                transaction?.Commit();
                transaction?.Dispose();
                transaction = connection.BeginTransaction();
                foreach (var c in new[] { message, recipient, meta, ev })
                    c.Transaction = transaction;
            }
            var at = acceptedAt(i).ToUnixTimeMilliseconds();
            var metadata = Metadata(i);
            message.Parameters["$id"].Value = $"m-{i}";
            message.Parameters["$subject"].Value = Subject(i);
            message.Parameters["$metadata"].Value = System.Text.Json.JsonSerializer.Serialize(metadata);
            message.Parameters["$at"].Value = at;
            message.Parameters["$expires"].Value = at + (long)TimeSpan.FromDays(30).TotalMilliseconds;
            var seq = (long)message.ExecuteScalar()!;
            foreach (var (address, kind) in new[] { (Recipient(i), "to"), (Recipient(i + 7), "cc") })
            {
                recipient.Parameters["$seq"].Value = seq;
                recipient.Parameters["$address"].Value = address;
                recipient.Parameters["$kind"].Value = kind;
                recipient.Parameters["$at"].Value = at;
                recipient.ExecuteNonQuery();
            }
            foreach (var (key, value) in metadata)
            {
                meta.Parameters["$seq"].Value = seq;
                meta.Parameters["$key"].Value = key;
                meta.Parameters["$value"].Value = value;
                meta.Parameters["$at"].Value = at;
                meta.ExecuteNonQuery();
            }
            foreach (var (key, type, details) in EventsOf(i))
            {
                ev.Parameters["$seq"].Value = seq;
                ev.Parameters["$key"].Value = key;
                ev.Parameters["$type"].Value = type;
                ev.Parameters["$at"].Value = at + 5;
                ev.Parameters["$details"].Value = details;
                ev.ExecuteNonQuery();
            }
        }
        transaction?.Commit();
        transaction?.Dispose();
        using var analyze = connection.CreateCommand();
        analyze.CommandText = "ANALYZE";
        analyze.ExecuteNonQuery();
    }

    private static (string Key, string Type, string Details)[] EventsOf(int i) =>
    [
        ("accepted", "accepted", """{"via":"http"}"""),
        ("attempt:0:1", "attempt", $$"""{"attempt":1,"relay":"relay:25","tls":true,"durationMs":3.2,"recipients":[{"address":"{{Recipient(i)}}","reply":"2.0.0 Ok: queued"}]}"""),
        ("sent:0:1", "sent", """{"attempt":1}"""),
    ];

    private static async Task LoadPostgresAsync(string connectionString, int count, Func<int, DateTimeOffset> acceptedAt)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using (var messages = await connection.BeginBinaryImportAsync("""
            COPY log_messages (id, accepted_at, client, sender, subject, metadata, via, to_addresses, cc_addresses, recipients, status, status_at, last_event_at)
            FROM STDIN (FORMAT BINARY)
            """))
        {
            for (var i = 0; i < count; i++)
            {
                var at = acceptedAt(i);
                await messages.StartRowAsync();
                await messages.WriteAsync($"m-{i}", NpgsqlDbType.Text);
                await messages.WriteAsync(at, NpgsqlDbType.TimestampTz);
                await messages.WriteAsync("bench", NpgsqlDbType.Text);
                await messages.WriteAsync("no-reply@example.com", NpgsqlDbType.Text);
                await messages.WriteAsync(Subject(i), NpgsqlDbType.Text);
                await messages.WriteAsync(System.Text.Json.JsonSerializer.Serialize(Metadata(i)), NpgsqlDbType.Jsonb);
                await messages.WriteAsync("http", NpgsqlDbType.Text);
                await messages.WriteAsync(new[] { Recipient(i) }, NpgsqlDbType.Array | NpgsqlDbType.Text);
                await messages.WriteAsync(new[] { Recipient(i + 7) }, NpgsqlDbType.Array | NpgsqlDbType.Text);
                await messages.WriteAsync(new[] { Recipient(i), Recipient(i + 7) }.Distinct().ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Text);
                await messages.WriteAsync("sent", NpgsqlDbType.Text);
                await messages.WriteAsync(at, NpgsqlDbType.TimestampTz);
                await messages.WriteAsync(at, NpgsqlDbType.TimestampTz);
            }
            await messages.CompleteAsync();
        }
        await using (var recipients = await connection.BeginBinaryImportAsync("COPY log_recipients (address, accepted_at, message_id) FROM STDIN (FORMAT BINARY)"))
        {
            for (var i = 0; i < count; i++)
                foreach (var address in new[] { Recipient(i), Recipient(i + 7) }.Distinct())
                {
                    await recipients.StartRowAsync();
                    await recipients.WriteAsync(address, NpgsqlDbType.Text);
                    await recipients.WriteAsync(acceptedAt(i), NpgsqlDbType.TimestampTz);
                    await recipients.WriteAsync($"m-{i}", NpgsqlDbType.Text);
                }
            await recipients.CompleteAsync();
        }
        await using (var metadata = await connection.BeginBinaryImportAsync("COPY log_metadata (key, value, accepted_at, message_id) FROM STDIN (FORMAT BINARY)"))
        {
            for (var i = 0; i < count; i++)
                foreach (var (key, value) in Metadata(i))
                {
                    await metadata.StartRowAsync();
                    await metadata.WriteAsync(key, NpgsqlDbType.Text);
                    await metadata.WriteAsync(value, NpgsqlDbType.Text);
                    await metadata.WriteAsync(acceptedAt(i), NpgsqlDbType.TimestampTz);
                    await metadata.WriteAsync($"m-{i}", NpgsqlDbType.Text);
                }
            await metadata.CompleteAsync();
        }
        await using (var events = await connection.BeginBinaryImportAsync("COPY log_events (message_id, accepted_at, key, type, at, details) FROM STDIN (FORMAT BINARY)"))
        {
            for (var i = 0; i < count; i++)
            {
                var at = acceptedAt(i);
                foreach (var (key, type, details) in EventsOf(i))
                {
                    await events.StartRowAsync();
                    await events.WriteAsync($"m-{i}", NpgsqlDbType.Text);
                    await events.WriteAsync(at, NpgsqlDbType.TimestampTz);
                    await events.WriteAsync(key, NpgsqlDbType.Text);
                    await events.WriteAsync(type, NpgsqlDbType.Text);
                    await events.WriteAsync(at.AddMilliseconds(5), NpgsqlDbType.TimestampTz);
                    await events.WriteAsync(details, NpgsqlDbType.Jsonb);
                }
            }
            await events.CompleteAsync();
        }
        await using var analyze = new NpgsqlCommand("ANALYZE", connection);
        await analyze.ExecuteNonQueryAsync();
    }
}

public sealed record MessageLogFigures(string Store, double WriterMessagesPerSecond, SearchFigures At10k, SearchFigures AtLarge);

/// <param name="LoadSeconds">the bulk load (not the service's write path: that is the writer's figure).</param>
public sealed record SearchFigures(int Messages, double LoadSeconds, Dictionary<string, Percentile> Latency, PurgeFigures? Purge);

/// <param name="SearchesMeanwhile">searches by recipient run without pause while the purge ran.</param>
public sealed record PurgeFigures(long Messages, double Seconds, Percentile SearchesMeanwhile);
