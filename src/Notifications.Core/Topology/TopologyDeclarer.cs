using Microsoft.Extensions.Logging;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace Notifications.Core.Topology;

/// <summary>Declares the exchange and queues idempotently; a mismatch becomes one clear error.</summary>
public sealed class TopologyDeclarer(TopologyNames names, ILogger<TopologyDeclarer> logger)
{
    private const ushort PreconditionFailed = 406;

    public async Task DeclareAsync(IConnection connection, CancellationToken cancellationToken)
    {
        await using var channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken);
        try
        {
            await channel.ExchangeDeclareAsync(names.Exchange, ExchangeType.Direct, durable: true, autoDelete: false,
                cancellationToken: cancellationToken);
        }
        catch (OperationInterruptedException ex) when (ex.ShutdownReason?.ReplyCode == PreconditionFailed)
        {
            throw new TopologyMismatchException(
                $"Exchange '{names.Exchange}' already exists with other settings ({ex.ShutdownReason.ReplyText}). " +
                "Fix: delete it in the management UI (Exchanges tab) so it is declared anew, " +
                "or set RabbitMq:Prefix to use fresh names.", ex);
        }

        foreach (var queue in TopologyDefinition.Queues(names))
        {
            try
            {
                await channel.QueueDeclareAsync(queue.Name, durable: true, exclusive: false, autoDelete: false,
                    arguments: queue.Arguments.ToDictionary(), cancellationToken: cancellationToken);
            }
            catch (OperationInterruptedException ex) when (ex.ShutdownReason?.ReplyCode == PreconditionFailed)
            {
                throw new TopologyMismatchException(
                    $"Queue '{queue.Name}' already exists with other arguments ({ex.ShutdownReason.ReplyText}). " +
                    $"Fix: move its messages away, then delete it (rabbitmqctl delete_queue {queue.Name}) so it is declared " +
                    "anew, or set RabbitMq:Prefix to use fresh names.", ex);
            }
            await channel.QueueBindAsync(queue.Name, names.Exchange, queue.RoutingKey, cancellationToken: cancellationToken);
        }
        logger.LogInformation("Topology declared: exchange {Exchange}, queues {SendQueue} and {HighQueue} with retry 1..{RetryCount} each, " +
            "{DeadQueue}, {WebhookQueue} with retry 1..{WebhookRetryCount}, {WebhookDeadQueue}",
            names.Exchange, names.SendQueue, names.HighQueue, TopologyNames.RetryQueueCount, names.DeadQueue,
            names.WebhookSendQueue, TopologyNames.WebhookRetryQueueCount, names.WebhookDeadQueue);
    }
}
