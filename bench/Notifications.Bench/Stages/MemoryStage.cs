namespace Notifications.Bench;

/// <summary>
/// Memory over a long run: the pipeline alone (no "each side alone", no flood) with <c>--memory-count</c> jobs
/// (100,000 unless told), the working sets of API and worker at 10 % of the run and at its end.
/// </summary>
public sealed class MemoryStage : IBenchStage
{
    public string Name => "memory";

    public async Task RunAsync(BenchContext context)
    {
        var o = context.Options;
        Console.Error.WriteLine($"memory: the pipeline alone over {o.MemoryCount} jobs...");
        context.Results.Memory = await new PipelineRun(context.Root, context.Broker, context.PrefixFor("memory"), context.Sink, o.MemoryCount,
            o.Clients, o.Prefetch, o.Concurrency, o.Connections, mainOnly: true, warmUpSeconds: o.WarmUpSeconds).RunAsync();
    }

    public void Report(BenchContext context, ReportTable table)
    {
        if (context.Results.Memory is not { } run)
            return;
        var memory = run.Memory;
        table.Row($"memory run ({run.Count:N0} jobs): delivered; every job once",
            $"{run.DeliveredPerSecond:0} mail/s ({run.Accepted} of {run.Count} accepted); {run.ExactlyOnce}");
        table.Row("memory run: worker working set start / 10 % / end",
            $"{ReportTable.Mb(memory.WorkerStart)} / {ReportTable.Mb(memory.WorkerTenth)} / {ReportTable.Mb(memory.WorkerEnd)} MB");
        table.Row("memory run: API working set start / 10 % / end",
            $"{ReportTable.Mb(memory.ApiStart)} / {ReportTable.Mb(memory.ApiTenth)} / {ReportTable.Mb(memory.ApiEnd)} MB");
    }
}
