using System.Collections.Concurrent;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace Notifications.Bench;

/// <summary>
/// The peer a user would write (bench/Notifications.Bench.Peer): a minimal API and a MassTransit consumer, each its own
/// process, under the same HTTP clients, jobs, key check, sink, prefetch, concurrency and SMTP connections as the pipeline.
/// </summary>
public sealed class FairPeerRun(string root, Uri broker, string prefix, BenchSink sink, int count, int clients, int prefetch, int concurrency,
    int connections, int warmUpSeconds)
{
    private static readonly string Key = "peer_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));

    public async Task<FairPeerResult> RunAsync()
    {
        var port = HttpLoad.FreePort();
        var environment = new Dictionary<string, string>
        {
            ["PEER_BROKER"] = broker.ToString(), ["PEER_PREFIX"] = prefix, ["PEER_PREFETCH"] = prefetch.ToString(),
            ["PEER_CONCURRENCY"] = concurrency.ToString(), ["PEER_SMTP_PORT"] = sink.Port.ToString(),
            ["PEER_CONNECTIONS"] = connections.ToString(),
            ["PEER_KEY_SHA256"] = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(Key))),
        };
        var folder = Path.Combine(root, "bench", "Notifications.Bench.Peer");
        using var worker = ServiceUnderTest.Start(folder, "Notifications.Bench.Peer", ["worker"], environment);
        // The worker binds its queue to the job's exchange: until it has, a published job would go nowhere.
        await WaitForQueueAsync(prefix + "peer.email.send");
        using var api = ServiceUnderTest.Start(folder, "Notifications.Bench.Peer", ["api", $"http://127.0.0.1:{port}"], environment);
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = clients, UseProxy = false })
        {
            BaseAddress = new Uri($"http://127.0.0.1:{port}"),
            DefaultRequestHeaders = { Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", Key) },
        };
        await HttpLoad.WaitReadyAsync(http);

        await HttpLoad.WarmUpAsync(http, sink, PipelineRun.WarmUpFor(count), clients, warmUpSeconds, batches: false); // the peer has no batch endpoint

        var bodies = HttpLoad.Bodies(count, "job");
        var posted = new ConcurrentDictionary<string, long>();
        var latencies = new ConcurrentBag<double>();
        var cpu = new CpuMeter().Add("peer API", () => api.CpuTime).Add("peer worker", () => worker.CpuTime)
            .Add("bench (HTTP clients + sink)", CpuMeter.Self).Add("broker", CpuMeter.Broker);
        cpu.Start();
        var started = Stopwatch.GetTimestamp();
        var errors = await HttpLoad.PostAllAsync(http, bodies, clients, posted, latencies);
        var acceptedAt = Stopwatch.GetTimestamp();
        await sink.WaitForAsync(posted.Count, TimeSpan.FromSeconds(30));
        var deliveredAt = sink.Arrivals.Values.Max(a => a[0]);
        var cpuPerJob = cpu.PerJobMs(posted.Count);
        var missing = posted.Keys.Count(id => !sink.Arrivals.ContainsKey(id));
        var doubled = sink.Arrivals.Count(a => a.Value.Count > 1);
        var unknown = sink.Arrivals.Keys.Count(id => !posted.ContainsKey(id));
        return new FairPeerResult(posted.Count, errors, posted.Count / HttpLoad.Seconds(started, acceptedAt),
            posted.Count / HttpLoad.Seconds(started, deliveredAt), HttpLoad.Percentiles(latencies), cpuPerJob,
            missing == 0 && doubled == 0 && unknown == 0 ? "ok" : $"missing {missing}, doubled {doubled}, unknown {unknown}");
    }

    private async Task WaitForQueueAsync(string queue)
    {
        var factory = new ConnectionFactory { Uri = broker };
        await using var connection = await factory.CreateConnectionAsync();
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                await using var channel = await connection.CreateChannelAsync();
                await channel.QueueDeclarePassiveAsync(queue);
                return;
            }
            catch (OperationInterruptedException) when (deadline.Elapsed < TimeSpan.FromMinutes(1))
            {
                await Task.Delay(100); // not declared yet (404 closes the channel)
            }
        }
    }
}

/// <param name="CpuMsPerJob">CPU ms per job of the peer's API, its worker, the broker, and the bench's HTTP clients and sink.</param>
public sealed record FairPeerResult(int Accepted, int Errors, double AcceptedPerSecond, double DeliveredPerSecond, Percentile PostLatencyMs,
    Dictionary<string, double> CpuMsPerJob, string ExactlyOnce);
