using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Notifications.Core.Bounces;
using Notifications.Core.Broker;
using Notifications.Core.Topology;
using Notifications.Worker.Transport;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace Notifications.Worker.Bounces;

/// <summary>
/// The transport of what came back to the return-path domain: consumes <c>email.inbound</c> (published by the inbound
/// receiver) and hands each message to <see cref="InboundPath"/> (read → match → record), then to
/// <see cref="InboundSettlement"/> (ack, park, or return) — the email path's shape: transport → steps → settlement.
/// </summary>
public sealed partial class InboundConsumer(
    BrokerConnection broker,
    TopologyNames names,
    Microsoft.Extensions.Options.IOptions<BouncesOptions> bounces,
    InboundPath path,
    InboundSettlement settlement,
    TimeProvider clock,
    ILogger<InboundConsumer> logger) : BackgroundService
{
    private const ushort Prefetch = 8;

    private QueueSubscription? _subscription;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!bounces.Value.Enabled)
        {
            logger.LogInformation("Bounces:Domain is not set: {Queue} is not consumed", names.InboundQueue);
            return;
        }
        var subscription = _subscription = new QueueSubscription(names.InboundQueue, Prefetch, HandleAsync);
        try
        {
            await subscription.ConsumeUntilStoppedAsync(broker, () => LogConsuming(names.InboundQueue), clock, logger, stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: what is in flight goes back to the queue when the channel closes.
        }
    }

    private async Task HandleAsync(BasicDeliverEventArgs delivery, IChannel channel)
    {
        try
        {
            await settlement.SettleAsync(delivery, channel, await path.RunAsync(delivery));
        }
        catch (Exception ex)
        {
            await settlement.ReturnAsync(delivery, channel, ex);
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        if (_subscription is not null)
            await _subscription.DisposeAsync();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Reading bounces and complaints from {Queue}")]
    private partial void LogConsuming(string queue);
}
