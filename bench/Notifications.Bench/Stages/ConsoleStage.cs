namespace Notifications.Bench;

/// <summary>The operator console with 100,000 dead letters: each page and search timed, and one domain's group replayed.</summary>
public sealed class ConsoleStage : IBenchStage
{
    public string Name => "console";

    public async Task RunAsync(BenchContext context)
    {
        // A smoke run's count alone (at least a letter per domain).
        var count = context.Options.Count < 5_000 ? Math.Max(context.Options.Count, ConsoleRun.Domains) : 100_000;
        Console.Error.WriteLine($"operator console ({count} dead letters: dlq reindex, pages and searches, one domain's group replayed)...");
        context.Results.Console = await new ConsoleRun(context.Root, context.Broker, context.PrefixFor("console"), count).RunAsync();
    }

    public void Report(BenchContext context, ReportTable table)
    {
        if (context.Results.Console is not { } r)
            return;
        table.Row($"console: dlq reindex of {r.Count:N0} dead letters (process start included)", $"{r.ReindexSeconds:0.0} s ({r.Count / r.ReindexSeconds:0}/s)");
        table.Row("console: the dead-letter page asked for as soon as the API started (it reads the index meanwhile)",
            $"answered in {r.Start.AnsweredMs:0} ms (goal: within 1,000 ms){(r.Start.SaidLoading ? ", saying the index is loading" : "")}; " +
            $"the letters shown {r.Start.ShownMs:0} ms after the first request");
        foreach (var page in r.Pages)
            table.Row($"console at {r.Count:N0} dead letters: {page.What}",
                $"first {page.FirstMs:0} ms, then median {page.MedianMs:0} ms, slowest {page.MaxMs:0} ms (goal: within 1,000 ms)");
        table.Row($"console: replay one domain's group ({r.GroupExpected:N0} of {r.Count:N0}, from the POST to the result page)",
            $"{r.ReplayPerSecond:0} dead letters/s; {r.GroupReplayed:N0} replayed ({r.ExactlyOnce}); API working set {ReportTable.Mb(r.ApiWorkingSetBytes)} MB");
    }
}
