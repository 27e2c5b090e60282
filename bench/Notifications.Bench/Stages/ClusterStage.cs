namespace Notifications.Bench;

/// <summary>The pipeline on a 3-node cluster (<c>RABBITMQ_CLUSTER_HOSTS</c>; scripts/bench.sh starts one).</summary>
public sealed class ClusterStage : IBenchStage
{
    public string Name => "cluster";

    public async Task RunAsync(BenchContext context)
    {
        if (context.ClusterUri is not { } uri)
        {
            Console.Error.WriteLine("cluster stage left out: RABBITMQ_CLUSTER_HOSTS is not set (scripts/bench.sh starts a cluster for it)");
            return;
        }
        var o = context.Options;
        Console.Error.WriteLine($"pipeline on a 3-node cluster ({o.Count} jobs, {o.Clients} clients)...");
        var hostSettings = context.ClusterHosts.Select((host, i) => ($"RabbitMq__Hosts__{i}", host)).ToDictionary(h => h.Item1, h => h.host);
        context.Results.Cluster = await new PipelineRun(context.Root, uri, context.PrefixFor("cluster", uri), context.Sink, o.Count, o.Clients,
            o.Prefetch, o.Concurrency, o.Connections, hostSettings, mainOnly: true).RunAsync();
    }

    public void Report(BenchContext context, ReportTable table)
    {
        if (context.Results.Cluster is not { } cluster)
            return;
        var single = context.Results.Pipeline;
        table.Row("cluster (3 nodes, quorum queues on all three): accepted / delivered",
            $"{cluster.AcceptedPerSecond:0} jobs/s / {cluster.DeliveredPerSecond:0} mail/s" +
            (single is null ? "" : $" (one node, same run: {single.AcceptedPerSecond:0} / {single.DeliveredPerSecond:0})") + $"; each once: {cluster.ExactlyOnce}");
        table.Row("cluster: POST latency p50 / p95 / p99 / max",
            ReportTable.Latency(cluster.PostLatencyMs) + (single is null ? "" : $" (one node: p99 {single.PostLatencyMs.P99:0.0} ms)"));
        table.Row("cluster: CPU ms per job", ReportTable.Cpu(cluster.CpuMsPerJob));
    }
}
