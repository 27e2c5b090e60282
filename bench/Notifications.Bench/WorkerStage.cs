using Notifications.Core.Topology;
using RabbitMQ.Client;

namespace Notifications.Bench;

/// <summary>
/// What the stages that run the real worker alone share: a connection that declared the stage's topology, and the
/// worker's settings (its own prefix and store, the sink as relay, shipped defaults otherwise).
/// </summary>
public static class WorkerStage
{
    public static async Task<IConnection> ConnectAndDeclareAsync(Uri broker, TopologyNames names, string clientName)
    {
        var connection = await new ConnectionFactory { Uri = broker, ClientProvidedName = clientName }.CreateConnectionAsync();
        await new TopologyDeclarer(names, Microsoft.Extensions.Logging.Abstractions.NullLogger<TopologyDeclarer>.Instance)
            .DeclareAsync(connection, CancellationToken.None);
        return connection;
    }

    public static Dictionary<string, string> WorkerSettings(Uri broker, string prefix, BenchSink sink, string store) => new()
    {
        ["RabbitMq__Uri"] = broker.ToString(),
        ["RabbitMq__Prefix"] = prefix,
        ["Smtp__Host"] = "127.0.0.1",
        ["Smtp__Port"] = sink.Port.ToString(),
        ["Smtp__Security"] = "None",
        ["Email__AllowedFrom__0"] = "shop@example.com",
        ["Store__Path"] = store,
        ["Serilog__MinimumLevel__Default"] = "Warning",
        ["OpenTelemetry__WorkerMetricsPort"] = "0",
    };

    /// <summary>The value at <paramref name="p"/> (0..1) of an ordered list.</summary>
    public static double Percentile(IReadOnlyList<double> sorted, double p) =>
        sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)];
}
