namespace Notifications.Core.Topology;

/// <summary>
/// Every queue with its arguments, in one place: the declarer uses it, and a test holds
/// <c>rabbitmq/definitions.json</c> to it.
/// </summary>
public static class TopologyDefinition
{
    public static IReadOnlyList<QueueDefinition> Queues(TopologyNames names)
    {
        var queues = new List<QueueDefinition>();
        // Normal first: the names and arguments of the single-lane topology are unchanged, so an upgrade only adds queues.
        foreach (var lane in new[] { Lane.Normal, Lane.High })
        {
            queues.Add(new(names.WorkQueue(lane), TopologyNames.WorkKey(lane), new Dictionary<string, object?>
            {
                ["x-queue-type"] = "quorum",
                ["x-dead-letter-exchange"] = names.Exchange,
                ["x-dead-letter-routing-key"] = TopologyNames.DeadKey,
                ["x-dead-letter-strategy"] = "at-least-once",
                ["x-overflow"] = "reject-publish",
                ["x-delivery-limit"] = TopologyNames.DeliveryLimit,
            }));
            for (var attempt = 1; attempt <= TopologyNames.RetryQueueCount; attempt++)
            {
                // No consumers: a message waits out its per-message expiration, then the broker moves it back to its lane.
                queues.Add(new(names.RetryQueue(attempt, lane), TopologyNames.RetryKey(attempt, lane), new Dictionary<string, object?>
                {
                    ["x-queue-type"] = "quorum",
                    ["x-dead-letter-exchange"] = names.Exchange,
                    ["x-dead-letter-routing-key"] = TopologyNames.WorkKey(lane),
                    ["x-dead-letter-strategy"] = "at-least-once",
                    ["x-overflow"] = "reject-publish",
                }));
            }
        }
        // Classic and without a delivery limit, so operators can browse it without losing anything.
        queues.Add(new(names.DeadQueue, TopologyNames.DeadKey, new Dictionary<string, object?>
        {
            ["x-queue-type"] = "classic",
        }));

        // Webhooks: the same shape as jobs, a work queue, a retry ladder through TTL queues, a dead-letter queue.
        queues.Add(new(names.WebhookSendQueue, TopologyNames.WebhookSendKey, new Dictionary<string, object?>
        {
            ["x-queue-type"] = "quorum",
            ["x-dead-letter-exchange"] = names.Exchange,
            ["x-dead-letter-routing-key"] = TopologyNames.WebhookDeadKey,
            ["x-dead-letter-strategy"] = "at-least-once",
            ["x-overflow"] = "reject-publish",
            ["x-delivery-limit"] = TopologyNames.DeliveryLimit,
        }));
        for (var attempt = 1; attempt <= TopologyNames.WebhookRetryQueueCount; attempt++)
            queues.Add(new(names.WebhookRetryQueue(attempt), TopologyNames.WebhookRetryKey(attempt), new Dictionary<string, object?>
            {
                ["x-queue-type"] = "quorum",
                ["x-dead-letter-exchange"] = names.Exchange,
                ["x-dead-letter-routing-key"] = TopologyNames.WebhookSendKey,
                ["x-dead-letter-strategy"] = "at-least-once",
                ["x-overflow"] = "reject-publish",
            }));
        queues.Add(new(names.WebhookDeadQueue, TopologyNames.WebhookDeadKey, new Dictionary<string, object?>
        {
            ["x-queue-type"] = "classic",
        }));

        // What comes back (bounces, complaints): the receiver's raw messages, and those nobody could read, kept for an operator.
        queues.Add(new(names.InboundQueue, TopologyNames.InboundKey, new Dictionary<string, object?>
        {
            ["x-queue-type"] = "quorum",
            ["x-dead-letter-exchange"] = names.Exchange,
            ["x-dead-letter-routing-key"] = TopologyNames.InboundUnparsedKey,
            ["x-dead-letter-strategy"] = "at-least-once",
            ["x-overflow"] = "reject-publish",
            ["x-delivery-limit"] = TopologyNames.DeliveryLimit,
            ["x-max-length"] = TopologyNames.InboundMaxLength,
            ["x-max-length-bytes"] = TopologyNames.InboundMaxBytes,
        }));
        queues.Add(new(names.InboundUnparsedQueue, TopologyNames.InboundUnparsedKey, new Dictionary<string, object?>
        {
            ["x-queue-type"] = "classic",
            ["x-overflow"] = "drop-head",
            ["x-max-length-bytes"] = TopologyNames.UnparsedMaxBytes,
            ["x-message-ttl"] = TopologyNames.UnparsedTtlMs,
        }));

        // The message log's entries: its writer acks them only once they are in the log's store.
        queues.Add(new(names.MessageLogQueue, TopologyNames.MessageLogKey, new Dictionary<string, object?>
        {
            ["x-queue-type"] = "quorum",
            ["x-overflow"] = "reject-publish",
            ["x-max-length-bytes"] = TopologyNames.MessageLogMaxBytes,
        }));
        return queues;
    }
}
