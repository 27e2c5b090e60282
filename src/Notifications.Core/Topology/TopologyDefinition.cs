namespace Notifications.Core.Topology;

/// <summary>
/// Every queue with its arguments, in one place: the declarer uses it, and a test holds
/// <c>rabbitmq/definitions.json</c> to it.
/// </summary>
public static class TopologyDefinition
{
    public static IReadOnlyList<QueueDefinition> Queues(TopologyNames names)
    {
        var queues = new List<QueueDefinition>
        {
            new(names.SendQueue, TopologyNames.SendKey, new Dictionary<string, object?>
            {
                ["x-queue-type"] = "quorum",
                ["x-dead-letter-exchange"] = names.Exchange,
                ["x-dead-letter-routing-key"] = TopologyNames.DeadKey,
                ["x-dead-letter-strategy"] = "at-least-once",
                ["x-overflow"] = "reject-publish",
                ["x-delivery-limit"] = TopologyNames.DeliveryLimit,
            }),
        };
        for (var attempt = 1; attempt <= TopologyNames.RetryQueueCount; attempt++)
        {
            // No consumers: a message waits out its per-message expiration, then the broker moves it back.
            queues.Add(new(names.RetryQueue(attempt), TopologyNames.RetryKey(attempt), new Dictionary<string, object?>
            {
                ["x-queue-type"] = "quorum",
                ["x-dead-letter-exchange"] = names.Exchange,
                ["x-dead-letter-routing-key"] = TopologyNames.SendKey,
                ["x-dead-letter-strategy"] = "at-least-once",
                ["x-overflow"] = "reject-publish",
            }));
        }
        // Classic and without a delivery limit, so operators can browse it without losing anything.
        queues.Add(new(names.DeadQueue, TopologyNames.DeadKey, new Dictionary<string, object?>
        {
            ["x-queue-type"] = "classic",
        }));
        return queues;
    }
}
