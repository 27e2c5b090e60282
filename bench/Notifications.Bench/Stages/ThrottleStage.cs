namespace Notifications.Bench;

/// <summary>A relay that answers 454 above its rate (SES-like), with no rate configured: the worker must find the pace.</summary>
public sealed class ThrottleStage : IBenchStage
{
    public const int MaxJobs = 10_000, Limit = 500;

    public string Name => "throttle";

    public async Task RunAsync(BenchContext context)
    {
        var jobs = Math.Min(context.Options.Count, MaxJobs);
        Console.Error.WriteLine($"a relay that throttles above {Limit}/s ({jobs} jobs)...");
        context.Results.Throttled = await new ThrottledRelayRun(context.Root, context.Broker, context.PrefixFor("throttle"), context.Sink, jobs, Limit)
            .RunAsync();
    }

    public void Report(BenchContext context, ReportTable table)
    {
        if (context.Results.Throttled is not { } throttled)
            return;
        table.Row($"relay throttling above {throttled.Limit}/s (454), {throttled.Count} jobs, no rate configured: delivered",
            $"{throttled.DeliveredPerSecond:0} mail/s; {throttled.ThrottleReplies} throttling replies, {throttled.DeadLettered} dead-lettered, " +
            $"{throttled.AttemptsSpent} jobs with an attempt spent; each once: {throttled.ExactlyOnce}");
    }
}
