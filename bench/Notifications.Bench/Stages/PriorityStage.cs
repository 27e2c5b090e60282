namespace Notifications.Bench;

/// <summary>High-priority jobs behind a backlog of normal ones: how long they wait.</summary>
public sealed class PriorityStage : IBenchStage
{
    public string Name => "priority";

    public async Task RunAsync(BenchContext context)
    {
        Console.Error.WriteLine($"high jobs behind a backlog of {context.Options.Count} normal ones...");
        context.Results.Priority = await new PriorityRun(context.Root, context.Broker, context.PrefixFor("priority"), context.Sink, context.Options.Count)
            .RunAsync();
    }

    public void Report(BenchContext context, ReportTable table)
    {
        if (context.Results.Priority is not { } priority)
            return;
        table.Row($"priority: {priority.HighJobs} high jobs, one every 100 ms, behind {priority.Backlog} normal ones ({priority.BacklogWhenFirstHigh} still queued at the first): " +
            "publish → sink p50 / p99 / max", $"{priority.HighP50Ms:0} / {priority.HighP99Ms:0} / {priority.HighMaxMs:0} ms " +
            $"(the last normal job: {priority.NormalLastMs:0} ms after the backlog was queued); each once: {priority.ExactlyOnce}");
    }
}
