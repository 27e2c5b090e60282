using Notifications.Core.MessageLog;
using Npgsql;

namespace Notifications.Bench;

/// <summary>
/// The message log (issue 42): the pipeline with the log off, on SQLite and on PostgreSQL in one run (goal: on ≥ 95 % of
/// off); the writer's messages per second against the pipeline's; searches and a message's page at 10,000 and at
/// <c>--log-messages</c> (1,000,000) for each store (goal p95 &lt; 200 ms and ≤ 2× the 10,000 figure); a day's purge.
/// PostgreSQL is <c>POSTGRES_URI</c> (scripts/bench.sh starts a throwaway cluster); each store gets fresh databases.
/// </summary>
public sealed class MessageLogStage : IBenchStage
{
    public string Name => "messagelog";

    public async Task RunAsync(BenchContext context)
    {
        var o = context.Options;
        var server = Environment.GetEnvironmentVariable("POSTGRES_URI");
        var folder = Directory.CreateTempSubdirectory("bench-log-").FullName;
        try
        {
            Console.Error.WriteLine("Message log: the pipeline with the log off / SQLite / PostgreSQL / off again...");
            async Task<PipelineResult> PipelineWith(string stage, Dictionary<string, string> settings) =>
                await new PipelineRun(context.Root, context.Broker, context.PrefixFor(stage), context.Sink, o.Count, o.Clients,
                    o.Prefetch, o.Concurrency, o.Connections, settings, mainOnly: true, warmUpSeconds: o.WarmUpSeconds).RunAsync();
            var off = await PipelineWith("log-off", new() { ["MessageLog__Enabled"] = "false" });
            var sqlite = await PipelineWith("log-sqlite", new() { ["MessageLog__Store"] = "Sqlite" });
            PipelineResult? postgres = null;
            if (server is not null)
                postgres = await PipelineWith("log-postgres", new()
                {
                    ["MessageLog__Store"] = "Postgres", ["MessageLog__ConnectionString"] = await NewDatabaseAsync(server),
                });
            var offAgain = await PipelineWith("log-off-again", new() { ["MessageLog__Enabled"] = "false" });

            var stores = new List<MessageLogFigures>();
            Console.Error.WriteLine($"Message log: SQLite's writer, and searches at 10,000 and {o.LogMessages:N0} messages...");
            var files = 0;
            stores.Add(await new MessageLogRun("SQLite", postgres: false,
                () => Task.FromResult(Path.Combine(folder, $"log{++files}.messages.db")),
                (options, path) => new SqliteMessageLog(path, options, TimeProvider.System)).RunAsync(o.LogMessages));
            if (server is not null)
            {
                Console.Error.WriteLine($"Message log: PostgreSQL's writer, and searches at 10,000 and {o.LogMessages:N0} messages...");
                stores.Add(await new MessageLogRun("PostgreSQL", postgres: true, () => NewDatabaseAsync(server),
                    (options, connection) => new PostgresMessageLog(connection, options, TimeProvider.System)).RunAsync(o.LogMessages));
            }
            context.Results.MessageLog = new MessageLogResult(off, sqlite, postgres, offAgain, stores);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static async Task<string> NewDatabaseAsync(string server)
    {
        var name = "bench" + Guid.NewGuid().ToString("N")[..12];
        await using (var connection = new NpgsqlConnection(server))
        {
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
            await create.ExecuteNonQueryAsync();
        }
        return new NpgsqlConnectionStringBuilder(server) { Database = name }.ToString();
    }

    public void Report(BenchContext context, ReportTable table)
    {
        if (context.Results.MessageLog is not { } r)
            return;
        var offRate = (r.Off.DeliveredPerSecond + r.OffAgain.DeliveredPerSecond) / 2;
        table.Row("pipeline delivered with the message log off (before / after) / on SQLite / on PostgreSQL (goal: on ≥ 95 % of off)",
            $"{r.Off.DeliveredPerSecond:0} / {r.OffAgain.DeliveredPerSecond:0} / {r.Sqlite.DeliveredPerSecond:0} ({r.Sqlite.DeliveredPerSecond / offRate:P0}) / " +
            (r.Postgres is { } p ? $"{p.DeliveredPerSecond:0} ({p.DeliveredPerSecond / offRate:P0})" : "not run (no POSTGRES_URI)") +
            $" mail/s; worker CPU ms per job off {ReportTable.Cpu(r.Off.CpuMsPerJob)}, SQLite {ReportTable.Cpu(r.Sqlite.CpuMsPerJob)}; each once: " +
            $"{r.Off.ExactlyOnce}, {r.Sqlite.ExactlyOnce}{(r.Postgres is { } q ? ", " + q.ExactlyOnce : "")}");
        foreach (var store in r.Stores)
        {
            table.Row($"message log, {store.Store}: the writer's own write path (accepted + attempt + sent per message, batches of 500)",
                $"{store.WriterMessagesPerSecond:0} messages/s against the pipeline's {r.Sqlite.DeliveredPerSecond:0} mail/s: " +
                (store.WriterMessagesPerSecond > r.Sqlite.DeliveredPerSecond ? "keeps up" : "falls behind"));
            foreach (var (what, small) in store.At10k.Latency)
            {
                var large = store.AtLarge.Latency[what];
                table.Row($"message log, {store.Store}: {what}, p50 / p95 at {store.At10k.Messages:N0} and at {store.AtLarge.Messages:N0} (goal p95 < 200 ms, ≤ 2× the small)",
                    $"{small.P50:0.0} / {small.P95:0.0} ms and {large.P50:0.0} / {large.P95:0.0} ms ({large.P95 / Math.Max(small.P95, 0.1):0.0}×)");
            }
            if (store.AtLarge.Purge is { } purge)
                table.Row($"message log, {store.Store}: purging one day ({purge.Messages:N0} of {store.AtLarge.Messages:N0} messages)",
                    $"{purge.Seconds:0.0} s; searches by recipient meanwhile p50 / p95 / max {purge.SearchesMeanwhile.P50:0.0} / {purge.SearchesMeanwhile.P95:0.0} / " +
                    $"{purge.SearchesMeanwhile.Max:0.0} ms (bulk load of the {store.AtLarge.Messages:N0}: {store.AtLarge.LoadSeconds:0} s)");
        }
    }
}

public sealed record MessageLogResult(PipelineResult Off, PipelineResult Sqlite, PipelineResult? Postgres, PipelineResult OffAgain,
    IReadOnlyList<MessageLogFigures> Stores);
