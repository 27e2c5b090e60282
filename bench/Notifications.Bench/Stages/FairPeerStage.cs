namespace Notifications.Bench;

/// <summary>The fair MassTransit 8.5 peer: HTTP in, publish, consume, MIME build, send — two processes, as a user would write it.</summary>
public sealed class FairPeerStage : IBenchStage
{
    public string Name => "fairpeer";

    public async Task RunAsync(BenchContext context)
    {
        var o = context.Options;
        Console.Error.WriteLine($"fair MassTransit peer: minimal API + consumer, own processes ({o.Count} jobs, {o.Clients} clients)...");
        context.Results.FairPeer = await new FairPeerRun(context.Root, context.Broker, context.PrefixFor("fairpeer"), context.Sink, o.Count,
            o.Clients, o.Prefetch, o.Concurrency, o.Connections, o.WarmUpSeconds).RunAsync();
    }

    public void Report(BenchContext context, ReportTable table)
    {
        if (context.Results.FairPeer is not { } peer)
            return;
        table.Row("fair MassTransit 8.5 peer (minimal API + consumer, own processes): accepted",
            $"{peer.AcceptedPerSecond:0} jobs/s ({peer.Accepted} of {context.Options.Count}, {peer.Errors} not 202); " +
            $"POST p50 / p95 / p99 / max {ReportTable.Latency(peer.PostLatencyMs)}");
        table.Row("fair MassTransit peer: delivered (first POST → last mail)",
            $"{peer.DeliveredPerSecond:0} mail/s" + (context.Results.Pipeline is { } pipeline
                ? $"; the pipeline, same run: {pipeline.DeliveredPerSecond:0} ({pipeline.DeliveredPerSecond / peer.DeliveredPerSecond:0.00}×)" : ""));
        table.Row("fair MassTransit peer: every job at the sink exactly once", peer.ExactlyOnce);
        table.Row("fair MassTransit peer: CPU ms per job", ReportTable.Cpu(peer.CpuMsPerJob));
    }
}
