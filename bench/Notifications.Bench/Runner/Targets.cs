namespace Notifications.Bench;

/// <summary>The targets the issues set, each met, missed, or not measured (its stage was left out; never "met").</summary>
public static class Targets
{
    public sealed record Target(string Name, bool? Met, string Figures);

    /// <summary>The bench's own part of a CPU table (HTTP clients and sink), left out of the service's CPU per job.</summary>
    private const string BenchCpu = "bench (HTTP clients + sink)";

    public static IReadOnlyList<Target> Of(BenchResults results, BenchOptions options)
    {
        var pipeline = results.Pipeline;
        var peer = results.Peer?.DeliveredPerSecond;
        var alone = pipeline?.EachSideAlone;
        var broker = results.BrokerCeiling;
        var ceiling = results.Ceiling;
        var dlq = results.Dlq;
        var pipelineCpu = pipeline?.CpuMsPerJob.Values.Sum() ?? 0;
        var memory = pipeline?.Memory;
        var fair = results.FairPeer;
        var serviceCpu = pipeline?.CpuMsPerJob.Where(p => p.Key != BenchCpu).Sum(p => p.Value) ?? 0;
        var fairCpu = fair?.CpuMsPerJob.Where(p => p.Key != BenchCpu).Sum(p => p.Value) ?? 0;
        var signing = results.Signing;
        var webhooks = results.Webhooks;
        var batch = alone?.Batch;
        var inbound = results.Inbound;
        var console = results.Console;
        var log = results.MessageLog;
        var logOff = log is null ? 0 : (log.Off.DeliveredPerSecond + log.OffAgain.DeliveredPerSecond) / 2;
        // The memory stage's long run; else the pipeline's own when it was that long (--large).
        var longRun = results.Memory is { Count: >= 100_000 } own ? own : pipeline is { Count: >= 100_000 } ? pipeline : null;
        return
        [
            new("pipeline delivered/s ≥ 70 % of min(broker, relay ceiling)",
                pipeline is null || ceiling is null ? null : pipeline.DeliveredPerSecond >= 0.7 * ceiling,
                $"{pipeline?.DeliveredPerSecond:0} vs {0.7 * ceiling:0}"),
            new("pipeline delivered/s above the MassTransit peer", pipeline is null || peer is null ? null : pipeline.DeliveredPerSecond > peer,
                $"{pipeline?.DeliveredPerSecond:0} vs {peer:0}"),
            new("POST p99 ≤ 20 ms at 64 clients", pipeline is null ? null : pipeline.PostLatencyMs.P99 <= 20, $"{pipeline?.PostLatencyMs.P99:0.0} ms"),
            new("accepted/s ≥ 50 % of the broker's publish ceiling",
                pipeline is null || broker is null ? null : pipeline.AcceptedPerSecond >= 0.5 * broker.Value.Publish,
                $"{pipeline?.AcceptedPerSecond:0} vs {0.5 * broker?.Publish:0}"),
            new("worker working set at the end within 10 % of its value at 10 %",
                memory is null ? null : ReportTable.Flat(memory.WorkerTenth, memory.WorkerEnd),
                memory is null ? "" : $"{ReportTable.Mb(memory.WorkerTenth)} → {ReportTable.Mb(memory.WorkerEnd)} MB"),
            new("dlq export and replay --all ≥ 2,000 dead letters/s", dlq is null ? null : dlq.All(d => d.ExportPerSecond >= 2_000 && d.ReplayPerSecond >= 2_000),
                dlq is null ? "" : string.Join("; ", dlq.Select(d => $"{d.Count:N0}: export {d.ExportPerSecond:0}/s, replay {d.ReplayPerSecond:0}/s"))),
            new("dlq replay within 1.5× of export's time", dlq is null ? null : dlq.All(d => d.ExportPerSecond / d.ReplayPerSecond <= 1.5),
                dlq is null ? "" : string.Join("; ", dlq.Select(d => $"{d.Count:N0}: {d.ExportPerSecond / d.ReplayPerSecond:0.00}×"))),
            new("dlq memory flat: peak at 100,000 within 1.5× of peak at 5,000", dlq is not { Count: 2 } ? null
                    : dlq[1].ReplayPeakBytes <= 1.5 * dlq[0].ReplayPeakBytes && dlq[1].ExportPeakBytes <= 1.5 * dlq[0].ExportPeakBytes,
                dlq is not { Count: 2 } ? "" : $"export {ReportTable.Mb(dlq[0].ExportPeakBytes)} → {ReportTable.Mb(dlq[1].ExportPeakBytes)} MB, " +
                    $"replay {ReportTable.Mb(dlq[0].ReplayPeakBytes)} → {ReportTable.Mb(dlq[1].ReplayPeakBytes)} MB"),
            // The performance issue's targets, against the MassTransit peer of the same run.
            new("worker alone delivered/s ≥ the MassTransit peer's", alone is null || peer is null ? null : alone.WorkerDeliveredPerSecond >= peer,
                $"{alone?.WorkerDeliveredPerSecond:0} vs {peer:0}"),
            new("pipeline delivered/s ≥ 0.7 × the MassTransit peer's", pipeline is null || peer is null ? null : pipeline.DeliveredPerSecond >= 0.7 * peer,
                $"{pipeline?.DeliveredPerSecond:0} vs {0.7 * peer:0}"),
            new("whole-pipeline CPU ≤ 1.0 ms per job (API, worker, broker, HTTP clients and sink)", pipeline is null ? null : pipelineCpu <= 1.0,
                $"{pipelineCpu:0.00} ms"),
            new("API alone at 64 clients: POST p99 ≤ 20 ms", alone is null ? null : alone.ApiPostLatencyMs.P99 <= 20, $"{alone?.ApiPostLatencyMs.P99:0.0} ms"),
            new("worker and API working sets at the end within 10 % of their values at 10 %",
                memory is null ? null : ReportTable.Flat(memory.WorkerTenth, memory.WorkerEnd) && ReportTable.Flat(memory.ApiTenth, memory.ApiEnd),
                memory is null ? "" : $"worker {ReportTable.Mb(memory.WorkerTenth)} → {ReportTable.Mb(memory.WorkerEnd)} MB, " +
                    $"API {ReportTable.Mb(memory.ApiTenth)} → {ReportTable.Mb(memory.ApiEnd)} MB" +
                    (options.Count < 100_000 ? $" (over {options.Count:N0} jobs; the issue asks for 100,000: --large)" : "")),
            // Issue 27: against the fair peer (a minimal API and a MassTransit consumer in their own processes), every feature on.
            new("pipeline delivered/s ≥ 1.2× the fair MassTransit peer's (same run)",
                pipeline is null || fair is null ? null : pipeline.DeliveredPerSecond >= 1.2 * fair.DeliveredPerSecond,
                $"{pipeline?.DeliveredPerSecond:0} vs 1.2 × {fair?.DeliveredPerSecond:0} = {1.2 * fair?.DeliveredPerSecond:0}"),
            new("pipeline ≤ 0.7 ms CPU per job (API, worker, broker; the bench's HTTP clients and sink apart)",
                pipeline is null ? null : serviceCpu <= 0.7,
                $"{serviceCpu:0.00} ms (+ bench {pipeline?.CpuMsPerJob.GetValueOrDefault(BenchCpu):0.00}); fair peer {fairCpu:0.00} ms"),
            new("worker allocates ≤ 25 KB per mail (and its share of time paused in GC)",
                pipeline?.WorkerGc is not { } gc ? null : gc.AllocatedBytesPerJob <= 25 * 1024,
                pipeline?.WorkerGc is not { } g ? "" : $"{g.AllocatedBytesPerJob / 1024:0.0} KB per mail, GC pauses {100 * g.GcPauseShare:0.0} % of the run"),
            new("DKIM signing ≤ 1.2× (signature primitive + one SHA-256 of the mail), RSA 2048 and Ed25519",
                signing is null ? null : signing.RsaNearPrimitive && signing.Ed25519NearPrimitive,
                signing is null ? "" : $"RSA {signing.RsaMs / (signing.RsaPrimitiveMs + signing.BodyHashMs):0.00}×, " +
                    $"Ed25519 {signing.Ed25519Ms / (signing.Ed25519PrimitiveMs + signing.BodyHashMs):0.00}×"),
            new("a client's webhook adds ≤ 0.3 ms CPU per job", webhooks is null ? null : webhooks.WorkerCpuMsWith - webhooks.WorkerCpuMsWithout <= 0.3,
                $"+{webhooks?.WorkerCpuMsWith - webhooks?.WorkerCpuMsWithout:0.00} ms"),
            new("the batch endpoint ≥ 70 % of the broker's confirmed-publish ceiling",
                batch is null || broker is null ? null : batch.AcceptedPerSecond >= 0.7 * broker.Value.Publish,
                $"{batch?.AcceptedPerSecond:0} vs 0.7 × {broker?.Publish:0} = {0.7 * broker?.Publish:0}"),
            new("inbound records ≥ 1,000 DSNs per second", inbound is null ? null : inbound.RecordedPerSecond >= 1_000,
                $"{inbound?.RecordedPerSecond:0}/s"),
            new("console dead-letter pages and searches answer within a second at 100,000 dead letters",
                console is null ? null : console.Count >= 100_000 && console.Pages.All(p => p.FirstMs <= 1_000 && p.MaxMs <= 1_000),
                console is null ? "" : $"slowest {console.Pages.Max(p => Math.Max(p.FirstMs, p.MaxMs)):0} ms at {console.Count:N0}"),
            new("API and worker working sets at the end within 15 % of their values at 10 %, over 100,000 jobs",
                longRun is null ? null
                    : ReportTable.Flat(longRun.Memory.WorkerTenth, longRun.Memory.WorkerEnd, 0.15) && ReportTable.Flat(longRun.Memory.ApiTenth, longRun.Memory.ApiEnd, 0.15),
                longRun is null ? "" : $"worker {ReportTable.Mb(longRun.Memory.WorkerTenth)} → {ReportTable.Mb(longRun.Memory.WorkerEnd)} MB, " +
                    $"API {ReportTable.Mb(longRun.Memory.ApiTenth)} → {ReportTable.Mb(longRun.Memory.ApiEnd)} MB over {longRun.Count:N0} jobs"),
            new("nothing lost or doubled in any run", results.ExactlyOnceEverywhere,
                results.ExactlyOnceEverywhere ? "every phase: each job once" : "a phase lost or doubled a job (rows above)"),
            new("pipeline with the message log on ≥ 95 % of it off, SQLite and PostgreSQL",
                log is null ? null : log.Sqlite.DeliveredPerSecond >= 0.95 * logOff && (log.Postgres is null || log.Postgres.DeliveredPerSecond >= 0.95 * logOff),
                log is null ? "" : $"SQLite {log.Sqlite.DeliveredPerSecond / logOff:P0}" + (log.Postgres is { } p ? $", PostgreSQL {p.DeliveredPerSecond / logOff:P0}" : ", PostgreSQL not run")),
            new("message log searches and a message's page: p95 < 200 ms at the large count, ≤ 2× the 10,000 figure, each store",
                log is null ? null : log.Stores.All(st => st.AtLarge.Latency.All(l => l.Value.P95 < 200 && l.Value.P95 <= 2 * Math.Max(st.At10k.Latency[l.Key].P95, 1))),
                log is null ? "" : string.Join("; ", log.Stores.Select(st => $"{st.Store} worst p95 {st.AtLarge.Latency.Max(l => l.Value.P95):0.0} ms at {st.AtLarge.Messages:N0}"))),
        ];
    }
}
