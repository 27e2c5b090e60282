using System.Globalization;

namespace Notifications.Bench;

/// <summary>The real API and worker under N HTTP clients; then each side alone, the batch endpoint, and a flood without keys.</summary>
public sealed class PipelineStage : IBenchStage
{
    public string Name => "pipeline";

    public async Task RunAsync(BenchContext context)
    {
        var o = context.Options;
        Console.Error.WriteLine($"pipeline ({o.Count} jobs, {o.Clients} clients)...");
        context.Results.Pipeline = await new PipelineRun(context.Root, context.Broker, context.Prefix, context.Sink, o.Count, o.Clients,
            o.Prefetch, o.Concurrency, o.Connections, warmUpSeconds: o.WarmUpSeconds).RunAsync();
    }

    public void Report(BenchContext context, ReportTable table)
    {
        if (context.Results.Pipeline is not { } pipeline)
            return;
        table.Row("pipeline: accepted", $"{pipeline.AcceptedPerSecond:0} jobs/s ({pipeline.Accepted} of {context.Options.Count}, {pipeline.Errors} not 202)");
        table.Row("pipeline: POST latency p50 / p95 / p99 / max", ReportTable.Latency(pipeline.PostLatencyMs));
        table.Row("pipeline: delivered (first POST → last mail)", context.Results.Ceiling is { } lower
            ? $"{pipeline.DeliveredPerSecond:0} mail/s ({100 * pipeline.DeliveredPerSecond / lower:0} % of the lower ceiling)"
            : $"{pipeline.DeliveredPerSecond:0} mail/s");
        table.Row("pipeline: end to end (POST → mail at sink) p50 / p99", $"{pipeline.EndToEndMs.P50:0} / {pipeline.EndToEndMs.P99:0} ms");
        table.Row("pipeline: every job at the sink exactly once", pipeline.ExactlyOnce);
        table.Row("pipeline: delivered/s per tenth of the run",
            string.Join(", ", pipeline.DeliveredPerSecondByTenth.Select(r => r.ToString("0", CultureInfo.InvariantCulture))));
        var memory = pipeline.Memory;
        table.Row("worker working set: start / 10 % / end",
            $"{ReportTable.Mb(memory.WorkerStart)} / {ReportTable.Mb(memory.WorkerTenth)} / {ReportTable.Mb(memory.WorkerEnd)} MB");
        table.Row("API working set: start / 10 % / end", $"{ReportTable.Mb(memory.ApiStart)} / {ReportTable.Mb(memory.ApiTenth)} / {ReportTable.Mb(memory.ApiEnd)} MB");
        table.Row("pipeline: CPU ms per job", ReportTable.Cpu(pipeline.CpuMsPerJob));
        if (pipeline.WorkerGc is { } gc)
            table.Row("worker: allocated per mail; share of the run paused in GC (System.Runtime meter, scraped)",
                $"{gc.AllocatedBytesPerJob / 1024:0.0} KB; {100 * gc.GcPauseShare:0.0} %");
        if (pipeline.EachSideAlone is { } apart)
            ReportApart(context, table, apart);
        if (pipeline.UnderAFlood is { } flood)
        {
            table.Row($"API alone under a flood of {PipelineRun.FloodRequests:N0} requests without a key: accepted",
                $"{flood.AcceptedPerSecond:0} jobs/s ({flood.Errors} not 202; alone: {pipeline.EachSideAlone!.ApiAcceptedPerSecond:0})");
            table.Row("API alone under the flood: POST latency p50 / p95 / p99 / max", ReportTable.Latency(flood.PostLatencyMs));
            table.Row("the flood: refused (401)", $"{flood.Refused} at {flood.RefusedPerSecond:0}/s, API CPU {flood.ApiCpuMsPerRefusal:0.000} ms per refusal; " +
                $"jobs once each: {flood.ExactlyOnce}");
        }
    }

    private static void ReportApart(BenchContext context, ReportTable table, ApartResult apart)
    {
        table.Row("API alone (worker frozen): accepted", $"{apart.ApiAcceptedPerSecond:0} jobs/s ({apart.ApiErrors} not 202)");
        table.Row("API alone: POST latency p50 / p95 / p99 / max", ReportTable.Latency(apart.ApiPostLatencyMs));
        table.Row("API alone: CPU ms per job", ReportTable.Cpu(apart.ApiCpuMsPerJob));
        if (apart.Batch is { } batch)
        {
            table.Row($"API alone through POST /api/send-email/batch ({batch.Size} jobs a request, {batch.Clients} at a time): accepted",
                $"{batch.AcceptedPerSecond:0} jobs/s ({batch.Errors} not queued)" + (context.Results.BrokerCeiling is { } ceiling
                    ? $", {100 * batch.AcceptedPerSecond / ceiling.Publish:0} % of the broker's publish ceiling" : ""));
            table.Row("API alone through batches: CPU ms per job", ReportTable.Cpu(batch.CpuMsPerJob));
        }
        table.Row("worker alone (draining those jobs): delivered", $"{apart.WorkerDeliveredPerSecond:0} mail/s; every job once: {apart.ExactlyOnce}");
        table.Row("worker alone: CPU ms per job", ReportTable.Cpu(apart.WorkerCpuMsPerJob));
    }
}
