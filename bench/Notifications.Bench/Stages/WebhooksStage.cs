namespace Notifications.Bench;

/// <summary>The worker alone without and with a client's webhook: what a webhook costs per job.</summary>
public sealed class WebhooksStage : IBenchStage
{
    public string Name => "webhooks";

    public async Task RunAsync(BenchContext context)
    {
        var jobs = Math.Min(context.Options.Count, ThrottleStage.MaxJobs);
        Console.Error.WriteLine($"worker alone without and with a webhook ({jobs} jobs each)...");
        context.Results.Webhooks = await new WebhookRun(context.Root, context.Broker, context.PrefixFor("hooks"), context.Sink, jobs,
            warmUp: Math.Min(context.Options.WarmUpSeconds * 500, 20_000)).RunAsync();
    }

    public void Report(BenchContext context, ReportTable table)
    {
        if (context.Results.Webhooks is not { } webhooks)
            return;
        table.Row($"webhooks: worker alone, {webhooks.Count} jobs after a warm-up, no webhook → one client's webhook (Kestrel answering 204)",
            $"{webhooks.DeliveredPerSecondWithout:0} → {webhooks.DeliveredPerSecondWith:0} mail/s; worker CPU {webhooks.WorkerCpuMsWithout:0.00} → " +
            $"{webhooks.WorkerCpuMsWith:0.00} ms per job (+{webhooks.WorkerCpuMsWith - webhooks.WorkerCpuMsWithout:0.00}); " +
            $"{webhooks.Callbacks} callbacks (the warm-up's included) at {webhooks.CallbacksPerSecond:0}/s; each once: {webhooks.ExactlyOnce}");
    }
}
