using Notifications.Core.Contract;
using RabbitMQ.Client;

namespace Notifications.Core.Broker;

/// <summary>Builds the AMQP properties of a job message, new or copied for a retry, the DLQ or a replay.</summary>
public static class JobProperties
{
    public static BasicProperties ForNewJob(EmailJob job) => new()
    {
        // The client also in a header, for what reads a job without decoding it (the parker, dlq).
        ContentType = JobMessage.ContentType,
        Type = JobMessage.Type,
        MessageId = job.Id,
        DeliveryMode = DeliveryModes.Persistent,
        Timestamp = new AmqpTimestamp(job.CreatedAt.ToUnixTimeSeconds()),
        Headers = job.Client is null ? new Dictionary<string, object?>() : new Dictionary<string, object?> { [JobHeaders.Client] = job.Client },
    };

    /// <summary>
    /// A copy of a delivered message's properties for republishing: our headers kept, the broker's own
    /// dropped, no expiration (a retry sets its own).
    /// </summary>
    public static BasicProperties CopyOf(IReadOnlyBasicProperties source)
    {
        var headers = new Dictionary<string, object?>();
        if (source.Headers is not null)
            foreach (var (name, value) in source.Headers)
                if (!JobHeaders.IsBrokerOwned(name))
                    headers[name] = value;
        return new BasicProperties
        {
            ContentType = source.ContentType ?? JobMessage.ContentType,
            Type = source.Type ?? JobMessage.Type,
            MessageId = source.MessageId,
            CorrelationId = source.CorrelationId,
            DeliveryMode = DeliveryModes.Persistent,
            Timestamp = source.IsTimestampPresent() ? source.Timestamp : new AmqpTimestamp(DateTimeOffset.UtcNow.ToUnixTimeSeconds()),
            Headers = headers,
        };
    }
}
