using Microsoft.Extensions.Options;
using Notifications.Core.Broker;
using Notifications.Core.Topology;
using RabbitMQ.Client;

namespace Notifications.Api.Backpressure;

/// <summary>
/// Samples the depth of <c>email.send</c> once a second, so a request decides on 429 without a
/// round trip to the broker of its own.
/// </summary>
public sealed class QueueDepthMonitor(
    BrokerConnection broker,
    TopologyNames names,
    IOptions<ApiOptions> options,
    ILogger<QueueDepthMonitor> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    private readonly int _maxDepth = options.Value.MaxQueueDepth;
    private long _depth;

    /// <summary>Ready jobs in the work queue at the last sample.</summary>
    public long Depth => Interlocked.Read(ref _depth);

    public bool IsOverLimit => _maxDepth > 0 && Depth > _maxDepth;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_maxDepth == 0)
            return;
        await broker.WhenConnectedAsync(stoppingToken);
        IChannel? channel = null;
        using var timer = new PeriodicTimer(Interval);
        try
        {
            await SampleUntilStoppedAsync(timer, stoppingToken);
        }
        finally
        {
            if (channel is not null)
                await channel.DisposeAsync();
        }
    }

    private async Task SampleUntilStoppedAsync(PeriodicTimer timer, CancellationToken stoppingToken)
    {
        IChannel? channel = null;
        do
        {
            try
            {
                if (broker.Current is { } connection)
                {
                    if (channel is not { IsOpen: true })
                        channel = await connection.CreateChannelAsync(cancellationToken: stoppingToken);
                    var ok = await channel.QueueDeclarePassiveAsync(names.SendQueue, stoppingToken);
                    Interlocked.Exchange(ref _depth, ok.MessageCount);
                }
            }
            catch (Exception ex) when (BrokerConnection.IsBrokerUnavailable(ex))
            {
                // Publishing answers 503 while the broker is away; the next sample tries again.
                logger.LogDebug("Queue depth sample failed: {Reason}", ex.Message);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
