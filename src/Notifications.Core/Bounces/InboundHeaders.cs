namespace Notifications.Core.Bounces;

/// <summary>The AMQP headers the inbound receiver puts on each raw message it publishes to <c>email.inbound</c>.</summary>
public static class InboundHeaders
{
    /// <summary>The RCPT TO addresses, comma-separated: the return paths the report came back to.</summary>
    public const string Recipients = "x-inbound-rcpt";

    /// <summary>The MAIL FROM of the session (empty for a bounce: &lt;&gt;).</summary>
    public const string MailFrom = "x-inbound-mail-from";

    /// <summary>The remote address that delivered it.</summary>
    public const string Remote = "x-inbound-remote";

    /// <summary>Why the consumer kept it in <c>email.inbound.unparsed</c>, one line.</summary>
    public const string Reason = "x-inbound-reason";

    public const string ContentType = "message/rfc822";

    /// <summary>
    /// The mail header that carries the job's return path (its MAC with it), so a report sent to another address at the
    /// bounce domain (a feedback loop's fixed address) still finds its job through something the service signed.
    /// </summary>
    public const string ReportToken = "X-Report-Token";

    public const string Type = "email.inbound.v1";

    /// <summary>The properties of one raw message for <c>email.inbound</c>: persistent, a new id, who sent it to which return paths.</summary>
    public static RabbitMQ.Client.BasicProperties For(string recipients, string mailFrom, string remote, DateTimeOffset at) => new()
    {
        MessageId = Guid.CreateVersion7().ToString(),
        Type = Type,
        ContentType = ContentType,
        DeliveryMode = RabbitMQ.Client.DeliveryModes.Persistent,
        Timestamp = new RabbitMQ.Client.AmqpTimestamp(at.ToUnixTimeSeconds()),
        Headers = new Dictionary<string, object?> { [Recipients] = recipients, [MailFrom] = mailFrom, [Remote] = remote },
    };
}
