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
            prefix + "mt.email.send", prefix + "ceiling", prefix + "email.status"];
        foreach (var queue in queues)
        {
            await using var channel = await connection.CreateChannelAsync();
            await channel.QueueDeleteAsync(queue, ifUnused: false, ifEmpty: false);
        }
        foreach (var exchange in new[] { names.Exchange, prefix + "mt.email.send", prefix + "mt.Notifications.Core.Contract:EmailJob",
                     prefix + "Notifications.Contracts:EmailSent" })
        {
            await using var channel = await connection.CreateChannelAsync();
            await channel.ExchangeDeleteAsync(exchange, ifUnused: false);
        }
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
