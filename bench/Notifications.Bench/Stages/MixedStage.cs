namespace Notifications.Bench;

/// <summary>Small jobs alone, then mixed with 1 MB ones: whether large mail holds up small mail.</summary>
public sealed class MixedStage : IBenchStage
{
    public string Name => "mixed";

    public async Task RunAsync(BenchContext context)
    {
        var small = Math.Min(context.Options.Count, 2_000);
        Console.Error.WriteLine($"small jobs alone and mixed with 1 MB jobs ({small} small ones)...");
        context.Results.Mixed = await new MixedSizeRun(context.Root, context.Broker, context.PrefixFor("mixed"), context.Sink, small).RunAsync();
    }

    public void Report(BenchContext context, ReportTable table)
    {
        if (context.Results.Mixed is not { } mixed)
            return;
        table.Row($"1 KB jobs at {mixed.SmallPerSecond}/s, alone → with a 1 MB job every {MixedSizeRun.LargeEvery} ({mixed.LargeJobs} of them): publish → sink p50 / p99",
            $"{mixed.AloneP50Ms:0} / {mixed.AloneP99Ms:0} ms → {mixed.MixedP50Ms:0} / {mixed.MixedP99Ms:0} ms; each once: {mixed.ExactlyOnce}");
    }
}
