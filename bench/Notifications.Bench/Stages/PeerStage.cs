namespace Notifications.Bench;

/// <summary>A MassTransit 8.5 peer doing the worker's part (consume a prebuilt message, send it with MailKit).</summary>
public sealed class PeerStage : IBenchStage
{
    public string Name => "peer";

    public async Task RunAsync(BenchContext context)
    {
        var o = context.Options;
        Console.Error.WriteLine($"MassTransit peer ({o.Count} jobs)...");
        context.Results.Peer = await MassTransitPeer.RunAsync(context.Broker, context.Prefix, context.Sink, o.Count, o.Clients,
            o.Prefetch, o.Concurrency, o.Connections);
    }

    public void Report(BenchContext context, ReportTable table)
    {
        if (context.Results.Peer is not { } peer)
            return;
        table.Row("MassTransit 8.5 peer, worker side only (a prebuilt mail published from the bench): delivered", $"{peer.DeliveredPerSecond:0} mail/s");
        table.Row("MassTransit peer, worker side only: CPU ms per job", ReportTable.Cpu(peer.CpuMsPerJob));
    }
}
