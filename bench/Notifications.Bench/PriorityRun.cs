using System.Diagnostics;
using Notifications.Core.Broker;
using Notifications.Core.Contract;
using Notifications.Core.Topology;
using RabbitMQ.Client;

namespace Notifications.Bench;

/// <summary>
/// Urgent mail behind a backlog: <paramref name="backlog"/> normal jobs put straight into <c>email.send</c>, the real
/// worker (its own process, shipped defaults) draining them, and one high job published every 100 ms meanwhile. The
/// latency of a high job is publish-confirmed → arrival at the sink; the normal jobs' is shown for comparison.
/// </summary>
public sealed class PriorityRun(string root, Uri broker, string prefix, BenchSink sink, int backlog)
{
    public const int HighJobs = 40;
    private static readonly TimeSpan HighEvery = TimeSpan.FromMilliseconds(100);

    public async Task<PriorityResult> RunAsync()
    {
        var names = new TopologyNames(prefix);
        var store = Path.Combine(Path.GetTempPath(), prefix + "store.db");
        await using var connection = await WorkerStage.ConnectAndDeclareAsync(broker, names, "bench-priority");
        await using var publisher = await connection.CreateChannelAsync(ConfirmWindow.ChannelOptions(BrokerCeiling.InFlight));
        var filled = Stopwatch.GetTimestamp();
        await PublishAsync(publisher, names, Enumerable.Range(0, backlog).Select(_ => SampleJob.Job(Guid.CreateVersion7().ToString())));
        sink.Reset();
        try
        {
            using var worker = ServiceUnderTest.Start(root, "Notifications.Worker", WorkerStage.WorkerSettings(broker, prefix, sink, store));
            // Wait until the backlog is really draining, then send the urgent ones into it.
            var draining = Math.Min(500, backlog / 10);
            while (sink.Count < draining)
                await Task.Delay(10);
            var published = new Dictionary<string, long>();
            var backlogAtFirst = 0u;
            for (var i = 0; i < HighJobs; i++)
            {
                var job = SampleJob.Job(Guid.CreateVersion7().ToString()) with { Priority = Lanes.HighWire };
                await PublishAsync(publisher, names, [job]);
                published[job.Id] = Stopwatch.GetTimestamp();
                if (i == 0)
                    backlogAtFirst = (await publisher.QueueDeclarePassiveAsync(names.SendQueue)).MessageCount;
                await Task.Delay(HighEvery);
            }
            var complete = await sink.WaitForAsync(backlog + HighJobs, TimeSpan.FromSeconds(30));
            var high = published.Select(p => sink.Arrivals.TryGetValue(p.Key, out var at)
                ? Stopwatch.GetElapsedTime(p.Value, at[0]).TotalMilliseconds : double.NaN).Order().ToList();
            var normalLast = sink.Arrivals.Where(a => !published.ContainsKey(a.Key)).Max(a => a.Value[0]);
            var once = sink.Arrivals.Count == backlog + HighJobs && sink.Arrivals.Values.All(a => a.Count == 1);
            return new PriorityResult(backlog, HighJobs, backlogAtFirst, WorkerStage.Percentile(high, 0.5), WorkerStage.Percentile(high, 0.99), high[^1],
                Stopwatch.GetElapsedTime(filled, normalLast).TotalMilliseconds,
                complete && once ? "ok" : $"{sink.Arrivals.Count} of {backlog + HighJobs} at the sink, {sink.Arrivals.Values.Count(a => a.Count > 1)} twice");
        }
        finally
        {
            Cleanup.DeleteStore(store);
        }
    }

    private static async Task PublishAsync(IChannel channel, TopologyNames names, IEnumerable<EmailJob> jobs)
    {
        var pending = new List<Task>();
        foreach (var job in jobs)
        {
            pending.Add(channel.BasicPublishAsync(names.Exchange, TopologyNames.WorkKey(job.Lane), mandatory: true,
                JobProperties.ForNewJob(job), JobCodec.Encode(job)).AsTask());
            if (pending.Count >= BrokerCeiling.InFlight)
            {
                await Task.WhenAll(pending);
                pending.Clear();
            }
        }
        await Task.WhenAll(pending);
    }
}

/// <param name="BacklogWhenFirstHigh">normal jobs still queued when the first high job was published.</param>
/// <param name="NormalLastMs">from the backlog's first publish to its last mail: what a normal job behind it waits.</param>
public sealed record PriorityResult(int Backlog, int HighJobs, uint BacklogWhenFirstHigh, double HighP50Ms, double HighP99Ms,
    double HighMaxMs, double NormalLastMs, string ExactlyOnce);
