using System.Text.Json;
using System.Text.Json.Serialization;

namespace Notifications.Bench;

/// <summary>Runs the chosen stages in order, leaves the broker as it found it, prints the table and writes the figures.</summary>
public static class BenchRunner
{
    /// <summary>Every stage, in the order they run and report.</summary>
    public static readonly IReadOnlyList<IBenchStage> Stages =
    [
        new BrokerStage(), new RelayStage(), new PipelineStage(), new FairPeerStage(), new MemoryStage(), new PeerStage(), new DlqStage(), new ThrottleStage(),
        new PriorityStage(), new SuppressionsStage(), new WebhooksStage(), new MixedStage(), new SigningStage(), new InboundStage(), new SubmissionStage(), new ConsoleStage(), new MessageLogStage(), new ClusterStage(),
    ];

    /// <returns>the exit code: 0 when every job of every stage arrived exactly once.</returns>
    public static async Task<int> RunAsync(BenchContext context)
    {
        var chosen = Stages.Where(s => context.Options.Runs(s.Name)).ToList();
        try
        {
            foreach (var stage in chosen)
                await stage.RunAsync(context);
        }
        finally
        {
            foreach (var (broker, prefix) in context.UsedPrefixes)
                await Cleanup.DeleteAsync(broker, prefix);
        }

        var results = context.Results;
        var targets = Targets.Of(results, context.Options);
        var machine = new
        {
            cores = Environment.ProcessorCount,
            memoryGiB = Math.Round(GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 1024.0 / 1024 / 1024, 1),
            os = System.Runtime.InteropServices.RuntimeInformation.OSDescription,
            dotnet = Environment.Version.ToString(),
            broker = await Cleanup.BrokerVersionAsync(context.Broker),
        };
        var o = context.Options;
        var table = new ReportTable();
        table.Line($"Machine: {machine.cores} cores, {machine.memoryGiB} GiB, RabbitMQ {machine.broker}, .NET {machine.dotnet}. " +
            $"Jobs {o.Count}, clients {o.Clients}, prefetch {o.Prefetch}, concurrency {o.Concurrency}, " +
            $"SMTP connections {o.Connections}, relay reply delay {o.RelayDelayMs} ms, warm-up {o.WarmUpSeconds} s (pipeline, fair peer, memory, webhooks, signing, inbound)." +
            (ServiceUnderTest.Configuration == "Release" ? "" : $" {ServiceUnderTest.Configuration} build: figures not representative."));
        table.Line();
        table.Line("| measure | value |");
        table.Line("|---|---|");
        foreach (var stage in chosen)
            stage.Report(context, table);
        table.Line();
        table.Line("| target | met | figures |");
        table.Line("|---|---|---|");
        foreach (var (name, met, figures) in targets)
            table.Line($"| {name} | {met switch { true => "met", false => "missed", null => "not measured" }} | {(met is null ? "" : figures)} |");
        Console.WriteLine(table);

        var outFile = o.Out ?? Path.Combine(context.Root, "bench", "results", $"bench-{DateTime.UtcNow:yyyyMMdd-HHmmss}.json");
        Directory.CreateDirectory(Path.GetDirectoryName(outFile)!);
        await File.WriteAllTextAsync(outFile, JsonSerializer.Serialize(new
        {
            machine,
            settings = new
            {
                o.Count, o.Clients, o.RelayDelayMs, o.WarmUpSeconds, o.MemoryCount, build = ServiceUnderTest.Configuration, stages = o.Stages.Order().ToArray(),
                prefetch = o.Prefetch, concurrency = o.Concurrency, smtpConnections = o.Connections,
                brokerCeilingInFlight = BrokerCeiling.InFlight, brokerCeilingPrefetch = BrokerCeiling.Prefetch,
            },
            brokerCeiling = results.BrokerCeiling is { } bc ? new { publishPerSecond = bc.Publish, consumePerSecond = bc.Consume } : null,
            relayCeilingPerSecond = results.RelayCeiling,
            pipeline = results.Pipeline,
            massTransitPeerPerSecond = results.Peer?.DeliveredPerSecond,
            massTransitPeerCpuMsPerJob = results.Peer?.CpuMsPerJob,
            fairPeer = results.FairPeer,
            memory = results.Memory,
            dlq = results.Dlq,
            throttledRelay = results.Throttled,
            priority = results.Priority,
            suppressionLookups = results.SuppressionLookups,
            webhooks = results.Webhooks,
            mixed = results.Mixed,
            cluster = results.Cluster,
            signing = results.Signing,
            inbound = results.Inbound,
            submission = results.Submission,
            console = results.Console,
            messageLog = results.MessageLog,
            targets = targets.Select(t => new { target = t.Name, met = t.Met, figures = t.Met is null ? null : t.Figures }),
        }, new JsonSerializerOptions { WriteIndented = true, NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals }));
        Console.Error.WriteLine($"figures written to {outFile}");
        return results.ExactlyOnceEverywhere ? 0 : 1;
    }
}
