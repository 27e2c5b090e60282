using System.Diagnostics;
using Notifications.Core.Broker;
using Notifications.Core.Contract;
using Notifications.Core.Topology;
using RabbitMQ.Client;

namespace Notifications.Bench;

/// <summary>
/// Large jobs must not slow small ones: the real worker (its own process, shipped defaults) running, small jobs (~1 KB)
/// published at a steady <see cref="SmallPerSecond"/> a second, once alone and once with a 1 MB job (a 1 MB attachment)
/// every <see cref="LargeEvery"/> small ones. The small jobs' publish → sink latency, p50 / p99, both ways.
/// </summary>
public sealed class MixedSizeRun(string root, Uri broker, string prefix, BenchSink sink, int small)
{
    public const int SmallPerSecond = 400, LargeEvery = 50, LargeBytes = 1024 * 1024;

    public async Task<MixedSizeResult> RunAsync()
    {
        var alone = await RunOnceAsync(prefix + "small.", withLarge: false);
        var mixed = await RunOnceAsync(prefix + "mixed.", withLarge: true);
        return new MixedSizeResult(small, SmallPerSecond, small / LargeEvery, alone.P50, alone.P99, mixed.P50, mixed.P99,
            alone.Once && mixed.Once ? "ok" : "a job missing or twice");
    }

    private async Task<(double P50, double P99, bool Once)> RunOnceAsync(string runPrefix, bool withLarge)
    {
        var names = new TopologyNames(runPrefix);
        var store = Path.Combine(Path.GetTempPath(), runPrefix + "store.db");
        await using var connection = await WorkerStage.ConnectAndDeclareAsync(broker, names, "bench-mixed");
        sink.Reset();
        try
        {
            using var worker = ServiceUnderTest.Start(root, "Notifications.Worker", WorkerStage.WorkerSettings(broker, runPrefix, sink, store));
            await using var publisher = await connection.CreateChannelAsync(ConfirmWindow.ChannelOptions(BrokerCeiling.InFlight));
            // Warm the worker up (JIT, connections) before anything is timed.
            await PublishAsync(publisher, names, SampleJob.Job(Guid.CreateVersion7().ToString()));
            await sink.WaitForAsync(1, TimeSpan.FromSeconds(60));
            sink.Reset();

            var large = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(LargeBytes));
            var published = new Dictionary<string, long>();
            var pending = new List<Task>();
            var started = Stopwatch.GetTimestamp();
            var total = 0;
            for (var i = 0; i < small; i++)
            {
                // Steady pace: job i goes at i / SmallPerSecond seconds.
                var due = started + (long)(i * Stopwatch.Frequency / (double)SmallPerSecond);
                while (Stopwatch.GetTimestamp() < due)
                    await Task.Delay(1);
                var job = SampleJob.Job(Guid.CreateVersion7().ToString());
                published[job.Id] = Stopwatch.GetTimestamp();
                pending.Add(PublishAsync(publisher, names, job));
                total++;
                if (withLarge && i % LargeEvery == LargeEvery / 2)
                {
                    pending.Add(PublishAsync(publisher, names, SampleJob.Job(Guid.CreateVersion7().ToString()) with
                    {
                        Subject = "Your monthly report",
                        Attachments = [new EmailAttachment("report.pdf", "application/pdf", large)],
                    }));
                    total++;
                }
            }
            await Task.WhenAll(pending);
            var complete = await sink.WaitForAsync(total, TimeSpan.FromSeconds(30));
            var latencies = published.Select(p => sink.Arrivals.TryGetValue(p.Key, out var at)
                ? Stopwatch.GetElapsedTime(p.Value, at[0]).TotalMilliseconds : double.MaxValue).Order().ToList();
            var once = complete && sink.Arrivals.Count == total && sink.Arrivals.Values.All(a => a.Count == 1);
            return (WorkerStage.Percentile(latencies, 0.5), WorkerStage.Percentile(latencies, 0.99), once);
        }
        finally
        {
            Cleanup.DeleteStore(store);
            await Cleanup.DeleteAsync(broker, runPrefix);
        }
    }

    private static Task PublishAsync(IChannel channel, TopologyNames names, EmailJob job) =>
        channel.BasicPublishAsync(names.Exchange, TopologyNames.SendKey, mandatory: true, JobProperties.ForNewJob(job), JobCodec.Encode(job)).AsTask();

}

public sealed record MixedSizeResult(int SmallJobs, int SmallPerSecond, int LargeJobs, double AloneP50Ms, double AloneP99Ms, double MixedP50Ms,
    double MixedP99Ms, string ExactlyOnce);
