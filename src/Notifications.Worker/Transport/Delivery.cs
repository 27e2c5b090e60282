using Microsoft.Extensions.Logging;
using Notifications.Core.Broker;
using Notifications.Core.Contract;
using Notifications.Core.Topology;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace Notifications.Worker.Transport;

/// <summary>One delivery from <c>email.send</c> or <c>email.send.high</c>, and the two ways to settle it.</summary>
public sealed class Delivery(BasicDeliverEventArgs args, IChannel channel, Lane lane, ILogger logger)
{
    private int _settled;

    public IReadOnlyBasicProperties Properties => args.BasicProperties;
    public ReadOnlyMemory<byte> Body => args.Body;
    public string JobId => args.BasicProperties.MessageId ?? "(none)";

    /// <summary>Failed deliveries before this one (<c>x-attempts</c>).</summary>
    public int PreviousAttempts { get; } = HeaderValues.GetInt(args.BasicProperties.Headers, JobHeaders.Attempts);

    /// <summary>How often an operator replayed it from the DLQ (<c>x-replays</c>).</summary>
    public int Replays { get; } = HeaderValues.GetInt(args.BasicProperties.Headers, JobHeaders.Replays);

    /// <summary>The lane it was consumed from: its retries come back to the same lane.</summary>
    public Lane Lane => lane;

    /// <summary>The client whose job it is (<c>x-client</c>), when the API knows clients.</summary>
    public string? Client { get; } = HeaderValues.GetString(args.BasicProperties.Headers, JobHeaders.Client);

    /// <summary>The channel it came on is still open: it can still be acked (else the broker hands it out again).</summary>
    public bool ChannelOpen => channel.IsOpen;

    /// <summary>Acked or returned already: the broker knows what became of it.</summary>
    public bool IsSettled => Volatile.Read(ref _settled) == 1;

    /// <summary>Done with: the mail was accepted, or its copy elsewhere is confirmed.</summary>
    public async Task AckAsync()
    {
        if (Interlocked.Exchange(ref _settled, 1) == 1)
            return;
        try
        {
            await channel.BasicAckAsync(args.DeliveryTag, multiple: false);
        }
        catch (Exception ex) when (BrokerConnection.IsBrokerUnavailable(ex) || ex is ObjectDisposedException)
        {
            // The broker hands the job out again; the sent marker keeps it from being mailed twice.
            logger.LogWarning("Ack of job {JobId} lost with the channel ({Reason}); it will be delivered again", JobId, ex.Message);
        }
    }

    /// <summary>
    /// Back to the queue, not this job's fault (outage, shutdown). basic.nack, not reject: from RabbitMQ 4.3
    /// a nack does not count towards the delivery limit.
    /// </summary>
    public async Task ReturnAsync()
    {
        if (Interlocked.Exchange(ref _settled, 1) == 1)
            return;
        try
        {
            await channel.BasicNackAsync(args.DeliveryTag, multiple: false, requeue: true);
        }
        catch (Exception ex) when (BrokerConnection.IsBrokerUnavailable(ex) || ex is ObjectDisposedException)
        {
            logger.LogDebug("Channel already gone ({Reason}); the broker requeues job {JobId} by itself", ex.Message, JobId);
        }
    }
}
