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

    /// <summary>How often a failing sample is logged at Warning: its first failure, then at most once a minute.</summary>
    private static readonly TimeSpan FailureLogInterval = TimeSpan.FromMinutes(1);

    private readonly BrokerConnection _broker;
    private readonly ILogger<QueueDepthMonitor> _logger;
    private readonly TimeProvider _clock;
    private readonly int _maxDepth;
    private readonly TimeSpan _maxAge;
    private readonly string[] _queues;
    private readonly QueueDepths _depths;
    private readonly int _sendIndex;
    private readonly int _highIndex;
    private long _failingSince; // clock timestamp of the first failed sample in a row; 0 = samples work
    private long _lastFailureLog;

    public QueueDepthMonitor(BrokerConnection broker, TopologyNames names, IOptions<ApiOptions> options,
        NotificationsTelemetry telemetry, TimeProvider clock, ILogger<QueueDepthMonitor> logger)
    {
        _broker = broker;
        _logger = logger;
        _clock = clock;
        _maxDepth = options.Value.MaxQueueDepth;
        _maxAge = options.Value.MaxDepthAge;
        // The lanes' work queues first: a sample that fails part-way has read the ones that decide on 429.
        var all = TopologyDefinition.Queues(names).Select(q => q.Name).ToList();
        _queues = [names.SendQueue, names.HighQueue, .. all.Where(q => q != names.SendQueue && q != names.HighQueue)];
        _depths = new QueueDepths(_queues, options.Value.MaxDepthAge, clock);
        _sendIndex = 0;
        _highIndex = 1;
        telemetry.ObserveGauge("notifications.queue.depth", "{message}", "Ready messages per queue, sampled once a second",
            () => _queues.Select((queue, i) => new Measurement<long>(_depths.Last(i), new KeyValuePair<string, object?>("queue", queue))));
    }

    /// <summary>Ready jobs in a lane's work queue at the last sample.</summary>
    public long Depth(Lane lane = Lane.Normal) => _depths.Last(lane == Lane.High ? _highIndex : _sendIndex);

    /// <summary>Over <c>Api:MaxQueueDepth</c> by a reading younger than <c>Api:MaxDepthAge</c>; an older one refuses nothing.</summary>
    public bool IsOverLimit(Lane lane) => _maxDepth > 0 && _depths.Fresh(lane == Lane.High ? _highIndex : _sendIndex) > _maxDepth;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        IChannel? channel = null;
        try
        {
            await _broker.WhenConnectedAsync(stoppingToken);
            using var timer = new PeriodicTimer(Interval, _clock);
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
                _depths.Record(i, (await channel.QueueDeclarePassiveAsync(_queues[i], stoppingToken)).MessageCount);
            if (Interlocked.Exchange(ref _failingSince, 0) is var since and not 0)
                _logger.LogInformation("Queue depth samples work again after {Duration}", _clock.GetElapsedTime(since));
            return channel;
        }
        catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
        {
            // A missing queue closes the channel (404); so does a timeout. Publishing answers for itself meanwhile.
            LogFailure(ex);
            if (channel is not null)
                await DisposeQuietlyAsync(channel);
            return null;
        }
    }

    private void LogFailure(Exception ex)
    {
        var now = _clock.GetTimestamp();
        Interlocked.CompareExchange(ref _failingSince, now, 0);
        if (_lastFailureLog != 0 && _clock.GetElapsedTime(_lastFailureLog, now) < FailureLogInterval)
            return;
        _lastFailureLog = now;
        _logger.LogWarning("Queue depth sample failed ({Reason}); a depth older than {MaxAge} (Api:MaxDepthAge) refuses no job",
            ex.GetBaseException().Message, _maxAge);
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
