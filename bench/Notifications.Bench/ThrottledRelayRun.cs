using System.Diagnostics;
using Microsoft.Extensions.Options;
using Notifications.Core.Broker;
using Notifications.Core.Contract;
using Notifications.Core.Store;
using Notifications.Core.Topology;
using RabbitMQ.Client;

namespace Notifications.Bench;

/// <summary>
/// A relay that throttles above <paramref name="limit"/> mails a second (SES's 454): <paramref name="count"/> jobs put
/// straight into the work queue, the real worker (its own process, shipped defaults, no rate configured) drains them.
/// It should find the relay's pace by itself: delivered/s close to the limit, nothing dead-lettered, no attempt spent.
/// </summary>
public sealed class ThrottledRelayRun(string root, Uri broker, string prefix, BenchSink sink, int count, int limit)
{
    public async Task<ThrottledResult> RunAsync()
    {
        var names = new TopologyNames(prefix);
        var store = Path.Combine(Path.GetTempPath(), prefix + "store.db");
        await using var connection = await WorkerStage.ConnectAndDeclareAsync(broker, names, "bench-throttled");
        var ids = await FillAsync(connection, names);
        sink.Reset();
        sink.ThrottleAbovePerSecond = limit;
        try
        {
            using var worker = ServiceUnderTest.Start(root, "Notifications.Worker", WorkerStage.WorkerSettings(broker, prefix, sink, store));
            var started = Stopwatch.GetTimestamp();
            var complete = await sink.WaitForAsync(count, TimeSpan.FromSeconds(30));
            var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
            await using var channel = await connection.CreateChannelAsync();
            var dead = (await channel.QueueDeclarePassiveAsync(names.DeadQueue)).MessageCount;
            var statuses = new SqliteJobStore(Options.Create(new StoreOptions { Path = store }));
            var spent = 0;
            foreach (var id in ids)
                if (await statuses.GetStatusAsync(id, CancellationToken.None) is not { Status: JobStatus.Sent, Attempt: 1 })
                    spent++;
            var once = sink.Arrivals.Count == count && sink.Arrivals.Values.All(a => a.Count == 1);
            return new ThrottledResult(count, limit, sink.Count / seconds, sink.ThrottledCount, dead, spent,
                complete && once ? "ok" : $"{sink.Arrivals.Count} of {count} at the sink, {sink.Arrivals.Values.Count(a => a.Count > 1)} twice");
        }
        finally
        {
            sink.ThrottleAbovePerSecond = 0;
            Cleanup.DeleteStore(store);
        }
    }

    private async Task<List<string>> FillAsync(IConnection connection, TopologyNames names)
    {
        var ids = Enumerable.Range(0, count).Select(_ => Guid.CreateVersion7().ToString()).ToList();
        await using var publisher = await connection.CreateChannelAsync(ConfirmWindow.ChannelOptions(BrokerCeiling.InFlight));
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, BrokerCeiling.InFlight).Select(async _ =>
        {
            int n;
            while ((n = Interlocked.Increment(ref next)) < count)
            {
                var job = SampleJob.Job(ids[n]);
                await publisher.BasicPublishAsync(names.Exchange, TopologyNames.SendKey, mandatory: true, JobProperties.ForNewJob(job),
                    JobCodec.Encode(job));
            }
        }));
        return ids;
    }
}

/// <param name="AttemptsSpent">jobs whose status is not "sent at attempt 1".</param>
public sealed record ThrottledResult(int Count, int Limit, double DeliveredPerSecond, long ThrottleReplies, uint DeadLettered,
    int AttemptsSpent, string ExactlyOnce);
