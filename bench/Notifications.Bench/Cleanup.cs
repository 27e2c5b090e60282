using RabbitMQ.Client;

namespace Notifications.Bench;

/// <summary>Leaves the broker as the run found it: every queue and exchange the run made is deleted.</summary>
public static class Cleanup
{
    public static async Task DeleteAsync(Uri broker, string prefix)
    {
        var factory = new ConnectionFactory { Uri = broker };
        await using var connection = await factory.CreateConnectionAsync();
        var names = new Notifications.Core.Topology.TopologyNames(prefix);
        string[] queues = [.. Notifications.Core.Topology.TopologyDefinition.Queues(names).Select(q => q.Name),
            prefix + "mt.email.send", prefix + "ceiling", prefix + "email.status", prefix + "peer.email.send"];
        foreach (var queue in queues)
        {
            await using var channel = await connection.CreateChannelAsync();
            await channel.QueueDeleteAsync(queue, ifUnused: false, ifEmpty: false);
        }
        // MassTransit made one exchange per event type (the pipeline's worker and API) and one per receive endpoint.
        var eventExchanges = typeof(Notifications.Contracts.EmailSent).Assembly.GetExportedTypes()
            .Where(t => t.Namespace == "Notifications.Contracts")
            .Select(t => $"{prefix}{t.Namespace}:{t.Name}");
        string[] exchanges = [names.Exchange, .. eventExchanges, prefix + "email.status", prefix + "mt.email.send",
            prefix + "mt.Notifications.Core.Contract:EmailJob", prefix + "peer.email.send", prefix + "peer.Notifications.Bench.Peer:PeerJob"];
        foreach (var exchange in exchanges)
        {
            await using var channel = await connection.CreateChannelAsync();
            await channel.ExchangeDeleteAsync(exchange, ifUnused: false);
        }
    }

    /// <summary>A SQLite store file and its WAL and shared-memory companions.</summary>
    public static void DeleteStore(string path)
    {
        // The message log's file beside it (MessageLog:Path empty: notifications.db → notifications.messages.db) goes too.
        var log = Path.ChangeExtension(path, null).TrimEnd('.') + ".messages.db";
        foreach (var file in new[] { path, path + "-wal", path + "-shm", log, log + "-wal", log + "-shm" })
            File.Delete(file);
    }

    public static async Task<string> BrokerVersionAsync(Uri broker)
    {
        var factory = new ConnectionFactory { Uri = broker };
        await using var connection = await factory.CreateConnectionAsync();
        return connection.ServerProperties?.TryGetValue("version", out var version) == true
            ? Notifications.Core.Broker.HeaderValues.AsString(version) ?? "?"
            : "?";
    }
}
