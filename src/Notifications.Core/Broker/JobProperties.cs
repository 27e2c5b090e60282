using Notifications.Core.Contract;
using Notifications.Core.Topology;
using RabbitMQ.Client;

namespace Notifications.Core.Broker;

/// <summary>Builds the AMQP properties of a job message, new or copied for a retry, the DLQ or a replay.</summary>
public static class JobProperties
{
    public static BasicProperties ForNewJob(EmailJob job)
    {
        // The client and the lane also in headers, for what reads a job without decoding it (the parker, dlq).
        var headers = new Dictionary<string, object?>();
        if (job.Client is not null)
            headers[JobHeaders.Client] = job.Client;
        if (job.Lane == Lane.High)
            headers[JobHeaders.Priority] = Lanes.HighWire;
        return new BasicProperties
        {
            ContentType = JobMessage.ContentType,
            Type = JobMessage.Type,
            MessageId = job.Id,
            DeliveryMode = DeliveryModes.Persistent,
            Timestamp = new AmqpTimestamp(job.CreatedAt.ToUnixTimeSeconds()),
            Headers = headers,
        };
    }

    /// <summary>A time as our headers spell it (ISO 8601, UTC, milliseconds).</summary>
    public static string Time(DateTimeOffset at) =>
        at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>A failure's history on a copy being parked: attempts, last error, kind, first (kept) and last failure time.</summary>
    public static void RecordFailure(IDictionary<string, object?> headers, int attempts, string error, string kind, DateTimeOffset at)
    {
        var now = Time(at);
        headers[JobHeaders.Attempts] = attempts;
        headers[JobHeaders.LastError] = error;
        headers[JobHeaders.FailureKind] = kind;
        headers[JobHeaders.FirstFailedAt] = HeaderValues.GetString(headers, JobHeaders.FirstFailedAt) ?? now;
        headers[JobHeaders.LastFailedAt] = now;
    }

    /// <summary>
    /// The copy of a failed delivery for its retry queue (with <paramref name="delay"/>) or a dead-letter queue (without):
    /// the one place a retry copy is built, for jobs and webhooks alike.
    /// </summary>
    public static BasicProperties RetryCopy(IReadOnlyBasicProperties source, int attempts, string error, string kind, TimeSpan? delay, DateTimeOffset now)
    {
        var properties = CopyOf(source, now);
        RecordFailure(properties.Headers!, attempts, error, kind, now);
        if (delay is { } wait)
            properties.Expiration = Expiration(wait);
        return properties;
    }

    /// <summary>A per-message TTL as AMQP spells it: whole milliseconds.</summary>
    public static string Expiration(TimeSpan delay) => ((long)delay.TotalMilliseconds).ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The lane a job message travels in, from its <c>x-priority</c> header.</summary>
    public static Lane LaneOf(IReadOnlyBasicProperties properties) =>
        Lanes.FromWire(HeaderValues.GetString(properties.Headers, JobHeaders.Priority));

    /// <summary>
    /// A copy of a delivered message's properties for republishing: our headers kept, the broker's own
    /// dropped, no expiration (a retry sets its own).
    /// </summary>
    public static BasicProperties CopyOf(IReadOnlyBasicProperties source, DateTimeOffset now)
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
            Timestamp = source.IsTimestampPresent() ? source.Timestamp : new AmqpTimestamp(now.ToUnixTimeSeconds()),
            Headers = headers,
        };
    }
}
