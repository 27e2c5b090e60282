using System.Globalization;
using System.Text;
using RabbitMQ.Client;

namespace Notifications.Core.Topology;

/// <summary>
/// Scheduled jobs wait in the broker, in a cascade of delay levels (the way NServiceBus does it): level n is a topic
/// exchange and a quorum queue whose every message lives 2^n seconds, then is dead-lettered to level n-1. A job's
/// routing key spells its delay in seconds as 22 bits, highest first, then its work queue's key
/// (<c>0.0.…1.0.1.email.send</c>); each level's exchange sends it into its queue when its bit is 1 and straight on to the
/// next level when it is 0, and after level 0 the delivery exchange routes it by the key's tail into its lane. Every
/// message in a level queue has the same time to live, so none waits behind a longer one (a per-message TTL expires only
/// at the head of a queue), and nothing but the broker holds a scheduled job: it survives restarts of every process.
/// </summary>
public static class DelayTopology
{
    /// <summary>22 levels: delays up to 2^22 - 1 s (48 days), beyond Email:MaxSchedule (30 days at most).</summary>
    public const int Levels = 22;

    public static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds((1L << Levels) - 1);

    public static string LevelName(TopologyNames names, int level) =>
        $"{names.Prefix}delay.level.{level.ToString("00", CultureInfo.InvariantCulture)}";

    public static string DeliveryExchange(TopologyNames names) => names.Prefix + "delay.delivery";

    /// <summary>Where a scheduled job is published: the highest level's exchange.</summary>
    public static string EntryExchange(TopologyNames names) => LevelName(names, Levels - 1);

    /// <summary>The routing key of a job due in <paramref name="delay"/> (whole seconds, rounded up) for <paramref name="workKey"/>.</summary>
    public static string RoutingKey(TimeSpan delay, string workKey)
    {
        var seconds = (long)Math.Ceiling(Math.Clamp(delay.TotalSeconds, 0, MaxDelay.TotalSeconds));
        var key = new StringBuilder(Levels * 2 + workKey.Length);
        for (var level = Levels - 1; level >= 0; level--)
            key.Append((seconds >> level & 1) == 1 ? '1' : '0').Append('.');
        return key.Append(workKey).ToString();
    }

    /// <summary>Every level queue, with the pattern that binds it to its level's exchange.</summary>
    public static IReadOnlyList<QueueDefinition> Queues(TopologyNames names) =>
    [
        .. Enumerable.Range(0, Levels).Reverse().Select(level => new QueueDefinition(LevelName(names, level), BitPattern(level, '1'),
            new Dictionary<string, object?>
            {
                ["x-queue-type"] = "quorum",
                ["x-message-ttl"] = (1L << level) * 1000,
                ["x-dead-letter-exchange"] = level > 0 ? LevelName(names, level - 1) : DeliveryExchange(names),
                ["x-dead-letter-strategy"] = "at-least-once",
                ["x-overflow"] = "reject-publish",
            })),
    ];

    /// <summary>Exchange-to-exchange bindings: (source, destination, pattern).</summary>
    public static IEnumerable<(string Source, string Destination, string Pattern)> ExchangeBindings(TopologyNames names) =>
        Enumerable.Range(0, Levels).Select(level =>
            (LevelName(names, level), level > 0 ? LevelName(names, level - 1) : DeliveryExchange(names), BitPattern(level, '0')));

    /// <summary>The delivery exchange's bindings to the lanes' work queues: by the key's tail.</summary>
    public static IEnumerable<(string Queue, string Pattern)> DeliveryBindings(TopologyNames names) =>
        Lanes.All.Select(lane => (names.WorkQueue(lane), "#." + TopologyNames.WorkKey(lane)));

    private static string BitPattern(int level, char bit) =>
        string.Concat(Enumerable.Repeat("*.", Levels - 1 - level)) + bit + ".#";

    /// <summary>Declares the cascade (idempotent): the exchanges, the level queues and every binding.</summary>
    public static async Task DeclareAsync(IChannel channel, TopologyNames names, CancellationToken cancellationToken)
    {
        await channel.ExchangeDeclareAsync(DeliveryExchange(names), ExchangeType.Topic, durable: true, autoDelete: false,
            cancellationToken: cancellationToken);
        for (var level = 0; level < Levels; level++)
            await channel.ExchangeDeclareAsync(LevelName(names, level), ExchangeType.Topic, durable: true, autoDelete: false,
                cancellationToken: cancellationToken);
        foreach (var queue in Queues(names))
        {
            await channel.QueueDeclareAsync(queue.Name, durable: true, exclusive: false, autoDelete: false,
                arguments: queue.Arguments.ToDictionary(), cancellationToken: cancellationToken);
            await channel.QueueBindAsync(queue.Name, queue.Name, queue.RoutingKey, cancellationToken: cancellationToken);
        }
        foreach (var (source, destination, pattern) in ExchangeBindings(names))
            await channel.ExchangeBindAsync(destination, source, pattern, cancellationToken: cancellationToken);
        foreach (var (queue, pattern) in DeliveryBindings(names))
            await channel.QueueBindAsync(queue, DeliveryExchange(names), pattern, cancellationToken: cancellationToken);
    }

    /// <summary>Removes the cascade (tests and the bench leave the broker as they found it).</summary>
    public static async Task DeleteAsync(IChannel channel, TopologyNames names)
    {
        foreach (var queue in Queues(names))
            await channel.QueueDeleteAsync(queue.Name, ifUnused: false, ifEmpty: false);
        for (var level = 0; level < Levels; level++)
            await channel.ExchangeDeleteAsync(LevelName(names, level), ifUnused: false);
        await channel.ExchangeDeleteAsync(DeliveryExchange(names), ifUnused: false);
    }
}
