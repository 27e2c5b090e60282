namespace Notifications.Bench;

/// <summary><c>dlq export</c> and <c>dlq replay --all</c> at the incident size operators measured (5,000) and a large one (100,000).</summary>
public sealed class DlqStage : IBenchStage
{
    public string Name => "dlq";

    public async Task RunAsync(BenchContext context)
    {
        // A smoke run's count alone.
        int[] counts = context.Options.Count < 5_000 ? [context.Options.Count] : [5_000, 100_000];
        context.Results.Dlq = [];
        foreach (var deadLetters in counts)
        {
            Console.Error.WriteLine($"dlq export and replay --all ({deadLetters} dead letters)...");
            context.Results.Dlq.Add(await new DlqRun(context.Root, context.Broker, context.PrefixFor($"dlq.{deadLetters}"), deadLetters).RunAsync());
        }
    }

    public void Report(BenchContext context, ReportTable table)
    {
        foreach (var dlq in context.Results.Dlq ?? [])
        {
            table.Row($"dlq export --out (process start included, {dlq.Count:N0} dead letters)",
                $"{dlq.ExportPerSecond:0} dead letters/s, peak {ReportTable.Mb(dlq.ExportPeakBytes)} MB");
            table.Row($"dlq replay --all (process start included, {dlq.Count:N0} dead letters)",
                $"{dlq.ReplayPerSecond:0} dead letters/s, peak {ReportTable.Mb(dlq.ReplayPeakBytes)} MB; every one back in the work queue: {dlq.ExactlyOnce}");
            table.Row($"its publishes alone ({dlq.Count:N0} confirmed to a quorum queue, one channel, no start, events or statuses)",
                $"{dlq.PublishAlonePerSecond:0}/s: {dlq.Count / dlq.PublishAlonePerSecond:0.00} s beside export {dlq.Count / dlq.ExportPerSecond:0.00} s " +
                $"and replay {dlq.Count / dlq.ReplayPerSecond:0.00} s");
        }
    }
}
