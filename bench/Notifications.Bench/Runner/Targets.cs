namespace Notifications.Bench;

/// <summary>The targets the issues set, each met, missed, or not measured (its stage was left out; never "met").</summary>
public static class Targets
{
    public sealed record Target(string Name, bool? Met, string Figures);

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
            new("nothing lost or doubled in any run", results.ExactlyOnceEverywhere,
                results.ExactlyOnceEverywhere ? "every phase: each job once" : "a phase lost or doubled a job (rows above)"),
        ];
    }
}
