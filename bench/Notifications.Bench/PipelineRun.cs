using Notifications.Core.Clients;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text.Json;

namespace Notifications.Bench;

/// <summary>The real API and worker under N concurrent HTTP clients posting a fixed count of jobs to the sink.</summary>
/// <param name="extraSettings">more settings for API and worker (the cluster stage: RabbitMq__Hosts__n).</param>
/// <param name="mainOnly">only the pipeline under the HTTP clients: no "each side alone", no flood.</param>
public sealed partial class PipelineRun(string root, Uri broker, string prefix, BenchSink sink, int count, int clients,
    int prefetch = PipelineRun.Prefetch, int concurrency = PipelineRun.Concurrency, int connections = PipelineRun.Connections,
    IReadOnlyDictionary<string, string>? extraSettings = null, bool mainOnly = false, int warmUpSeconds = 0)
{
    public const int Prefetch = 64, Concurrency = 16, Connections = 16; // the shipped defaults (appsettings.json)
    private const int MaxWarmUp = 500;

    /// <summary>Jobs sent through before measuring (pools, connections, the first JIT): a quarter of the count, at most 500.</summary>
    public static int WarmUpFor(int count) => Math.Clamp(count / 4, 10, MaxWarmUp);

    /// <summary>A key made for this run only.</summary>
    private static readonly string Key = "ntf_bench_" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(24));

    private int _workerMetricsPort;

    public async Task<PipelineResult> RunAsync()
    {
        var apiPort = HttpLoad.FreePort();
        _workerMetricsPort = HttpLoad.FreePort();
        var common = new Dictionary<string, string>
        {
            ["RabbitMq__Uri"] = broker.ToString(),
            ["RabbitMq__Prefix"] = prefix,
            ["RabbitMq__Prefetch"] = prefetch.ToString(),
            ["RabbitMq__Concurrency"] = concurrency.ToString(),
            ["Smtp__Host"] = "127.0.0.1",
            ["Smtp__Port"] = sink.Port.ToString(),
            ["Smtp__Security"] = "None",
            ["Smtp__Connections"] = connections.ToString(),
            ["Api__MaxQueueDepth"] = "0",
            ["Serilog__MinimumLevel__Default"] = "Warning",
            // The worker's Prometheus endpoint: its allocations and GC pauses per phase (RuntimeCounters).
            ["OpenTelemetry__WorkerMetricsPort"] = _workerMetricsPort.ToString(),
            ["Urls"] = $"http://127.0.0.1:{apiPort}",
            // Keys are required, as shipped: the HTTP clients authenticate as client "bench" (no rate limit).
            ["Clients__bench__KeyHashes__0"] = ClientRegistry.HashOf(Key),
            ["Clients__bench__AllowedFrom__0"] = "Notifications <no-reply@example.com>",
        };
        foreach (var (key, value) in extraSettings ?? new Dictionary<string, string>())
            common[key] = value;
        // One store for the deployment, as shipped: the worker writes statuses where the API reads them.
        var store = Path.Combine(Path.GetTempPath(), prefix + "store.db");
        try
        {
            var settings = With(common, "Store__Path", store);
            return await RunAsync(settings, settings, apiPort);
        }
        finally
        {
            Cleanup.DeleteStore(store);
        }
    }

    private async Task<PipelineResult> RunAsync(Dictionary<string, string> apiSettings, Dictionary<string, string> workerSettings, int apiPort)
    {
        using var api = ServiceUnderTest.Start(root, "Notifications.Api", apiSettings);
        using var worker = ServiceUnderTest.Start(root, "Notifications.Worker", workerSettings);
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = clients, UseProxy = false })
        {
            BaseAddress = new Uri($"http://127.0.0.1:{apiPort}"),
            DefaultRequestHeaders = { Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", Key) },
        };
        await HttpLoad.WaitReadyAsync(http);

        await HttpLoad.WarmUpAsync(http, sink, WarmUpFor(count), clients, warmUpSeconds, batches: true);

        var bodies = HttpLoad.Bodies(count, "job");
        var posted = new ConcurrentDictionary<string, long>();
        var latencies = new ConcurrentBag<double>();
        var memory = new MemorySamples { ApiStart = api.WorkingSetBytes, WorkerStart = worker.WorkingSetBytes };
        var cpu = new CpuMeter().Add("api", () => api.CpuTime).Add("worker", () => worker.CpuTime)
            .Add("bench (HTTP clients + sink)", CpuMeter.Self).Add("broker", CpuMeter.Broker);
        var workerGc = new RuntimeCounters(_workerMetricsPort);
        await workerGc.StartAsync();
        cpu.Start();
        var tenths = new long[11];
        var started = Stopwatch.GetTimestamp();
        tenths[0] = started;
        using var stopSampling = new CancellationTokenSource();
        var sampler = SampleTenthsAsync(tenths, memory, api, worker, stopSampling.Token);
        var errors = await HttpLoad.PostAllAsync(http, bodies, clients, posted, latencies);
        var acceptedAt = Stopwatch.GetTimestamp();
        // A mail that never comes (the relay refused it: it is in the DLQ) ends the wait after 30 s of silence.
        var complete = await sink.WaitForAsync(posted.Count, TimeSpan.FromSeconds(30));
        var deliveredAt = sink.Arrivals.Values.Max(a => a[0]); // the last mail, not the end of the wait
        var cpuPerJob = cpu.PerJobMs(posted.Count);
        var gc = await workerGc.StopAsync(posted.Count);
        if (!complete)
            await stopSampling.CancelAsync(); // a tenth never reached stays NaN; the sink's counts below are another phase's
        await sampler;
        var byTenth = Enumerable.Range(1, 10).Select(k => tenths[k] == 0 ? double.NaN : count / 10.0 / HttpLoad.Seconds(tenths[k - 1], tenths[k])).ToArray();
        memory.ApiEnd = api.WorkingSetBytes;
        memory.WorkerEnd = worker.WorkingSetBytes;
        var deadLetters = await DeadLettersAsync();
        var (exactlyOnce, accountedFor) = CheckExactlyOnce(posted, deadLetters, 0);
        var endToEnd = HttpLoad.Percentiles(posted.Select(p => HttpLoad.Seconds(p.Value, sink.Arrivals.TryGetValue(p.Key, out var a) ? a[0] : p.Value) * 1000));
        // A mail the relay refused is in the DLQ, as it should be: the run fails, but each side alone is still worth measuring.
        var apart = accountedFor && !mainOnly ? await EachSideAloneAsync(http, api, worker, deadLetters.Count) : null;
        var flood = apart is not null ? await UnderAFloodAsync(http, api, worker, deadLetters.Count) : null;

        return new PipelineResult(count, clients, posted.Count, errors,
            posted.Count / HttpLoad.Seconds(started, acceptedAt),
            posted.Count / HttpLoad.Seconds(started, deliveredAt),
            HttpLoad.Percentiles(latencies),
            endToEnd,
            exactlyOnce,
            memory,
            byTenth,
            cpuPerJob,
            apart,
            flood,
            gc);
    }

    /// <summary>A phase starts from an empty sink, with nothing posted yet.</summary>
    private (ConcurrentDictionary<string, long> Posted, ConcurrentBag<double> Latencies) NewPhase()
    {
        sink.Reset();
        return (new ConcurrentDictionary<string, long>(), new ConcurrentBag<double>());
    }

    private static Dictionary<string, string> With(Dictionary<string, string> settings, string key, string value) =>
        new(settings) { [key] = value };

    private async Task SampleTenthsAsync(long[] tenths, MemorySamples memory, ServiceUnderTest api, ServiceUnderTest worker,
        CancellationToken stop)
    {
        var k = 1;
        while (k <= 10 && !stop.IsCancellationRequested)
        {
            if (sink.Count >= (long)count * k / 10)
            {
                tenths[k] = Stopwatch.GetTimestamp();
                if (k == 1)
                    (memory.ApiTenth, memory.WorkerTenth) = (api.WorkingSetBytes, worker.WorkingSetBytes);
                k++;
                continue;
            }
            await Task.Delay(5);
        }
    }

    /// <summary>"ok", or what went wrong; and whether every job is either at the sink once or in the DLQ.</summary>
    private (string Verdict, bool AccountedFor) CheckExactlyOnce(ConcurrentDictionary<string, long> posted, DeadLetters dead, uint deadBefore)
    {
        var missing = posted.Keys.Count(id => !sink.Arrivals.ContainsKey(id));
        var doubled = sink.Arrivals.Count(a => a.Value.Count > 1);
        var unknown = sink.Arrivals.Keys.Count(id => !posted.ContainsKey(id));
        var deadLettered = dead.Count - deadBefore;
        if (missing == 0 && doubled == 0 && unknown == 0)
            return ("ok", true);
        var why = dead.Errors.Count == 0 ? "" : $"; the DLQ says: {string.Join(" | ", dead.Errors)}";
        if (sink.Failures is { Count: > 0 } failures)
            why += $"; the sink failed {failures.Count} times storing a mail, first: {failures.First}";
        return ($"missing {missing} (in the DLQ: {deadLettered}), doubled {doubled}, unknown {unknown}{why}",
            doubled == 0 && unknown == 0 && missing <= deadLettered);
    }

    private sealed record DeadLetters(uint Count, IReadOnlyList<string> Errors);

    /// <summary>How many jobs are in the DLQ, and the distinct last errors of the first few (looked at, left in place).</summary>
    private async Task<DeadLetters> DeadLettersAsync()
    {
        var factory = new RabbitMQ.Client.ConnectionFactory { Uri = broker };
        await using var connection = await factory.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        var queue = prefix + "email.dead";
        var count = (await channel.QueueDeclarePassiveAsync(queue)).MessageCount;
        var errors = new HashSet<string>();
        for (var i = 0; i < Math.Min(count, 20u); i++)
        {
            // Not acked: closing the channel puts them back.
            if (await channel.BasicGetAsync(queue, autoAck: false) is not { } message)
                break;
            if (message.BasicProperties.Headers?.TryGetValue(Notifications.Core.Contract.JobHeaders.LastError, out var error) == true)
                errors.Add(Notifications.Core.Broker.HeaderValues.AsString(error) ?? "?");
        }
        return new DeadLetters(count, [.. errors]);
    }

}
