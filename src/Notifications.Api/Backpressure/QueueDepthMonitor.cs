using Microsoft.Extensions.Options;
using Notifications.Core.Broker;
using Notifications.Core.Topology;
using System.Diagnostics.Metrics;
using Notifications.Core.Telemetry;
using RabbitMQ.Client;

namespace Notifications.Api.Backpressure;

/// <summary>
/// Samples the depth of every queue once a second: each lane's work queue decides on 429 for that lane without a
/// round trip to the broker per request (a normal backlog never refuses a high job), and all of them are the
/// <c>notifications.queue.depth</c> gauge.
/// </summary>
public sealed class QueueDepthMonitor : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    private readonly BrokerConnection _broker;
    private readonly ILogger<QueueDepthMonitor> _logger;
    private readonly int _maxDepth;
    private readonly string[] _queues;
    private readonly long[] _depths;
    private readonly int _sendIndex;
    private readonly int _highIndex;

    public QueueDepthMonitor(BrokerConnection broker, TopologyNames names, IOptions<ApiOptions> options,
        NotificationsTelemetry telemetry, ILogger<QueueDepthMonitor> logger)
    {
        _broker = broker;
        _logger = logger;
        _maxDepth = options.Value.MaxQueueDepth;
        _queues = TopologyDefinition.Queues(names).Select(q => q.Name).ToArray();
        _depths = new long[_queues.Length];
        _sendIndex = Array.IndexOf(_queues, names.SendQueue);
        _highIndex = Array.IndexOf(_queues, names.HighQueue);
        telemetry.ObserveGauge("notifications.queue.depth", "{message}", "Ready messages per queue, sampled once a second",
            () => _queues.Select((queue, i) => new Measurement<long>(Interlocked.Read(ref _depths[i]), new KeyValuePair<string, object?>("queue", queue))));
    }

    /// <summary>Ready jobs in a lane's work queue at the last sample.</summary>
    public long Depth(Lane lane = Lane.Normal) => Interlocked.Read(ref _depths[lane == Lane.High ? _highIndex : _sendIndex]);

    public bool IsOverLimit(Lane lane) => _maxDepth > 0 && Depth(lane) > _maxDepth;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        IChannel? channel = null;
        try
        {
            await _broker.WhenConnectedAsync(stoppingToken);
            using var timer = new PeriodicTimer(Interval);
            do
                channel = await SampleAsync(channel, stoppingToken);
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
        finally
        {
            if (channel is not null)
                await channel.DisposeAsync();
        }
    }

    /// <summary>
    /// One sample of every queue. Nothing the broker does ends the loop (an escaped exception would stop the
    /// whole API): a failed sample is logged, its channel dropped, and the next tick tries again.
    /// </summary>
    private async Task<IChannel?> SampleAsync(IChannel? channel, CancellationToken stoppingToken)
    {
        // A blocked connection is not read by the broker: a declare on it would hang until the alarm clears.
        if (_broker.Current is not { } connection || _broker.BlockedReason is not null)
            return channel;
        try
        {
            if (channel is not { IsOpen: true })
            {
                if (channel is not null)
                    await channel.DisposeAsync();
                channel = null;
                channel = await connection.CreateChannelAsync(cancellationToken: stoppingToken);
            }
            for (var i = 0; i < _queues.Length; i++)
                Interlocked.Exchange(ref _depths[i], (await channel.QueueDeclarePassiveAsync(_queues[i], stoppingToken)).MessageCount);
            return channel;
        }
        catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
        {
            // A missing queue closes the channel (404); so does a timeout. Publishing answers for itself meanwhile.
            _logger.LogDebug("Queue depth sample failed: {Reason}", ex.GetBaseException().Message);
            if (channel is not null)
                await DisposeQuietlyAsync(channel);
            return null;
        }
    }

    private static async Task DisposeQuietlyAsync(IChannel channel)
    {
        try
        {
            await channel.DisposeAsync();
        }
        catch (Exception)
        {
            // A channel that failed may fail its close too; it is being dropped either way.
        }
    }
}
