using Microsoft.AspNetCore.Mvc;
using Notifications.Api.Clients;
using Notifications.Api.Console;
using Notifications.Core.Broker;
using Notifications.Core.Clients;
using Notifications.Core.Topology;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace Notifications.Api.Pages.Console;

/// <summary>
/// The overview: what waits in each queue now (the broker's counts), the DLQ against the console's index (a difference
/// offers a rebuild), paused clients, and the operations started here lately.
/// </summary>
public sealed class IndexModel(BrokerConnection broker, TopologyNames names, DeadLetterView view, PausedClients paused, ClientRegistry clients,
    ConsoleOperations operations) : ConsolePage
{
    public sealed record QueueCount(string Label, string Queue, long? Messages, long? Consumers);

    public List<QueueCount> Queues { get; } = [];
    public long? DeadInQueue { get; private set; }
    /// <summary>Entries in the console's index; null while the API is still reading it after a start.</summary>
    public int? DeadIndexed { get; private set; }
    public long WaitingToRetry { get; private set; }
    public string? BrokerProblem { get; private set; }
    public List<(string Client, string Reason)> Paused { get; } = [];
    public IReadOnlyList<ConsoleOperation> Operations => operations.Recent;

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        var snapshot = await view.CurrentAsync(cancellationToken);
        DeadIndexed = snapshot.Loading ? null : snapshot.Entries.Count;
        foreach (var client in clients.All)
            if (paused.ReasonFor(client.Name) is { } reason)
                Paused.Add((client.Name, reason));
        if (broker.Current is not { } connection)
        {
            BrokerProblem = "The API is not connected to the broker: queue counts are unknown.";
            return;
        }
        IChannel? channel = null;
        try
        {
            // A passive declare of a queue that is not there closes its channel: the next count opens another.
            async Task<QueueDeclareOk?> CountAsync(string queue)
            {
                if (channel is not { IsOpen: true })
                {
                    if (channel is not null)
                        await channel.DisposeAsync();
                    channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken);
                }
                try
                {
                    return await channel.QueueDeclarePassiveAsync(queue, cancellationToken);
                }
                catch (OperationInterruptedException)
                {
                    return null;
                }
            }
            foreach (var (label, queue) in new[]
            {
                ("Work queue", names.SendQueue), ("High-priority lane", names.HighQueue), ("Dead letters", names.DeadQueue),
                ("Webhooks to send", names.WebhookSendQueue), ("Dead webhooks", names.WebhookDeadQueue),
                ("Bounces and complaints to read", names.InboundQueue), ("Inbound mail not understood", names.InboundUnparsedQueue),
            })
            {
                var ok = await CountAsync(queue);
                Queues.Add(new QueueCount(label, queue, ok?.MessageCount, ok?.ConsumerCount));
                if (queue == names.DeadQueue)
                    DeadInQueue = ok?.MessageCount;
            }
            foreach (var delay in DelayTopology.Queues(names))
                WaitingToRetry += (await CountAsync(delay.Name))?.MessageCount ?? 0;
        }
        catch (Exception ex) when (BrokerConnection.IsBrokerUnavailable(ex))
        {
            BrokerProblem = $"The broker did not answer ({ex.GetBaseException().Message}): queue counts are incomplete.";
        }
        finally
        {
            if (channel is not null)
                await channel.DisposeAsync();
        }
    }
}
