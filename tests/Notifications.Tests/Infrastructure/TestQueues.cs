using Notifications.Core.Topology;
using RabbitMQ.Client;

namespace Notifications.Tests.Infrastructure;

/// <summary>What a test reads from and writes to one prefixed topology, through the real broker.</summary>
public sealed class TestQueues(TopologyNames names)
{
    public TopologyNames Names => names;

    public async Task<uint> CountAsync(string queue)
    {
        await using var channel = await ChannelAsync();
        return (await channel.QueueDeclarePassiveAsync(queue)).MessageCount;
    }

    /// <summary>Takes up to <paramref name="max"/> messages off a queue (acked: they are gone afterwards).</summary>
    public async Task<List<TakenMessage>> TakeAsync(string queue, int max = int.MaxValue)
    {
        await using var channel = await ChannelAsync();
        var taken = new List<TakenMessage>();
        while (taken.Count < max && await channel.BasicGetAsync(queue, autoAck: true) is { } result)
            taken.Add(new TakenMessage(result.Body.ToArray(), result.BasicProperties, result.RoutingKey));
        return taken;
    }

    /// <summary>Waits until a queue holds <paramref name="count"/> messages, then takes them.</summary>
    public async Task<List<TakenMessage>> WaitAndTakeAsync(string queue, int count, TimeSpan? timeout = null)
    {
        await Eventually.ReturnsAsync(() => CountAsync(queue), n => n >= count, $"{count} message(s) in {queue}", timeout);
        return await TakeAsync(queue, count);
    }

    public async Task PublishRawAsync(string routingKey, byte[] body, BasicProperties? properties = null)
    {
        await using var channel = await (await BrokerEnvironment.ConnectionAsync()).CreateChannelAsync(
            new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
        await channel.BasicPublishAsync(names.Exchange, routingKey, mandatory: true,
            properties ?? new BasicProperties { DeliveryMode = DeliveryModes.Persistent }, body);
    }

    /// <summary>Publishes many messages to one routing key over one channel with confirms, 256 in flight.</summary>
    public async Task PublishRawManyAsync(string routingKey, IEnumerable<(BasicProperties Properties, byte[] Body)> messages)
    {
        await using var channel = await (await BrokerEnvironment.ConnectionAsync()).CreateChannelAsync(
            new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
        var pending = new List<Task>();
        foreach (var (properties, body) in messages)
        {
            pending.Add(channel.BasicPublishAsync(names.Exchange, routingKey, mandatory: true, properties, body).AsTask());
            if (pending.Count == 256)
            {
                await Task.WhenAll(pending);
                pending.Clear();
            }
        }
        await Task.WhenAll(pending);
    }

    /// <summary>Queues many jobs at once, as the API would, over one channel with confirms: a backlog in seconds.</summary>
    public async Task PublishJobsAsync(IEnumerable<Notifications.Core.Contract.EmailJob> jobs)
    {
        await using var channel = await (await BrokerEnvironment.ConnectionAsync()).CreateChannelAsync(
            new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
        var pending = new List<Task>();
        foreach (var job in jobs)
        {
            pending.Add(channel.BasicPublishAsync(names.Exchange, TopologyNames.WorkKey(job.Lane), mandatory: true,
                Notifications.Core.Broker.JobProperties.ForNewJob(job), Notifications.Core.Contract.JobCodec.Encode(job)).AsTask());
            if (pending.Count == 256)
            {
                await Task.WhenAll(pending);
                pending.Clear();
            }
        }
        await Task.WhenAll(pending);
    }

    /// <summary>Declares this test's topology the way the API and worker do.</summary>
    public async Task DeclareAsync() =>
        await new TopologyDeclarer(names, Microsoft.Extensions.Logging.Abstractions.NullLogger<TopologyDeclarer>.Instance)
            .DeclareAsync(await BrokerEnvironment.ConnectionAsync(), default);

    /// <summary>Removes this test's exchange and queues from the shared broker.</summary>
    public async Task DeleteAllAsync()
    {
        await using var channel = await ChannelAsync();
        foreach (var queue in TopologyDefinition.Queues(names))
            await channel.QueueDeleteAsync(queue.Name, ifUnused: false, ifEmpty: false);
        await channel.ExchangeDeleteAsync(names.Exchange, ifUnused: false);
        await DelayTopology.DeleteAsync(channel, names);
    }

    private static async Task<IChannel> ChannelAsync() =>
        await (await BrokerEnvironment.ConnectionAsync()).CreateChannelAsync();
}

public sealed record TakenMessage(byte[] Body, IReadOnlyBasicProperties Properties, string RoutingKey)
{
    public string? Header(string name) => Notifications.Core.Broker.HeaderValues.GetString(Properties.Headers, name);

    public int IntHeader(string name) => Notifications.Core.Broker.HeaderValues.GetInt(Properties.Headers, name, -1);
}
