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
public sealed class PipelineRun(string root, Uri broker, string prefix, BenchSink sink, int count, int clients,
    int prefetch = PipelineRun.Prefetch, int concurrency = PipelineRun.Concurrency, int connections = PipelineRun.Connections,
    IReadOnlyDictionary<string, string>? extraSettings = null, bool mainOnly = false)
{
    public const int Prefetch = 64, Concurrency = 16, Connections = 16; // the shipped defaults (appsettings.json)
    private const int MaxWarmUp = 500;

    /// <summary>A key made for this run only.</summary>
    private static readonly string Key = "ntf_bench_" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(24));

    public async Task<PipelineResult> RunAsync()
    {
        var apiPort = FreePort();
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
            ["OpenTelemetry__WorkerMetricsPort"] = "0",
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
        await WaitReadyAsync(http);

        // Warm-up (JIT, pools, connections), then measure from a clean sink.
        var warmUp = Math.Clamp(count / 4, 10, MaxWarmUp);
        sink.Reset();
        await PostAllAsync(http, Bodies(warmUp, "warm"), clients, new ConcurrentDictionary<string, long>(), new ConcurrentBag<double>());
        if (!await sink.WaitForAsync(warmUp, TimeSpan.FromSeconds(30)))
            throw new TimeoutException($"warm-up: the sink saw {sink.Count} of {warmUp} mails");
        sink.Reset();

        var bodies = Bodies(count, "job");
        var posted = new ConcurrentDictionary<string, long>();
        var latencies = new ConcurrentBag<double>();
        var memory = new MemorySamples { ApiStart = api.WorkingSetBytes, WorkerStart = worker.WorkingSetBytes };
        var cpu = new CpuMeter().Add("api", () => api.CpuTime).Add("worker", () => worker.CpuTime)
            .Add("bench (HTTP clients + sink)", CpuMeter.Self).Add("broker", CpuMeter.Broker);
        cpu.Start();
        var tenths = new long[11];
        var started = Stopwatch.GetTimestamp();
        tenths[0] = started;
        using var stopSampling = new CancellationTokenSource();
        var sampler = SampleTenthsAsync(tenths, memory, api, worker, stopSampling.Token);
        var errors = await PostAllAsync(http, bodies, clients, posted, latencies);
        var acceptedAt = Stopwatch.GetTimestamp();
        // A mail that never comes (the relay refused it: it is in the DLQ) ends the wait after 30 s of silence.
        var complete = await sink.WaitForAsync(posted.Count, TimeSpan.FromSeconds(30));
        var deliveredAt = sink.Arrivals.Values.Max(a => a[0]); // the last mail, not the end of the wait
        var cpuPerJob = cpu.PerJobMs(posted.Count);
        if (!complete)
            await stopSampling.CancelAsync(); // a tenth never reached stays NaN; the sink's counts below are another phase's
        await sampler;
        var byTenth = Enumerable.Range(1, 10).Select(k => tenths[k] == 0 ? double.NaN : count / 10.0 / Seconds(tenths[k - 1], tenths[k])).ToArray();
        memory.ApiEnd = api.WorkingSetBytes;
        memory.WorkerEnd = worker.WorkingSetBytes;
        var deadLetters = await DeadLettersAsync();
        var (exactlyOnce, accountedFor) = CheckExactlyOnce(posted, deadLetters, 0);
        var endToEnd = Percentiles(posted.Select(p => Seconds(p.Value, sink.Arrivals.TryGetValue(p.Key, out var a) ? a[0] : p.Value) * 1000));
        // A mail the relay refused is in the DLQ, as it should be: the run fails, but each side alone is still worth measuring.
        var apart = accountedFor && !mainOnly ? await EachSideAloneAsync(http, api, worker, deadLetters.Count) : null;
        var flood = apart is not null ? await UnderAFloodAsync(http, api, worker, deadLetters.Count) : null;

        return new PipelineResult(count, clients, posted.Count, errors,
            posted.Count / Seconds(started, acceptedAt),
            posted.Count / Seconds(started, deliveredAt),
            Percentiles(latencies),
            endToEnd,
            exactlyOnce,
            memory,
            byTenth,
            cpuPerJob,
            apart,
            flood);
    }

    /// <summary>
    /// First the flood alone: <see cref="FloodRequests"/> requests without a key, for the API's CPU per refusal (401).
    /// Then the API alone again (worker frozen) taking the same count from the authenticated clients while the flood
    /// runs again from as many clients: what it costs the paying callers. Then the worker drains the jobs, once each.
    /// </summary>
    private async Task<FloodResult> UnderAFloodAsync(HttpClient http, ServiceUnderTest api, ServiceUnderTest worker, uint deadLetteredBefore)
    {
        sink.Reset();
        var posted = new ConcurrentDictionary<string, long>();
        var latencies = new ConcurrentBag<double>();
        using var anonymous = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = clients, UseProxy = false })
        {
            BaseAddress = http.BaseAddress,
        };
        worker.Freeze();
        var apiCpu = new CpuMeter().Add("api", () => api.CpuTime);
        apiCpu.Start();
        var (refused, floodSeconds) = await FloodAsync(anonymous);
        var apiMsPerRefusal = refused == 0 ? double.NaN : apiCpu.PerJobMs(refused).GetValueOrDefault("api");

        var started = Stopwatch.GetTimestamp();
        var flood = FloodAsync(anonymous);
        var errors = await PostAllAsync(http, Bodies(count, "flood"), clients, posted, latencies);
        var acceptedPerSecond = posted.Count / Seconds(started, Stopwatch.GetTimestamp());
        await flood;
        worker.Thaw();
        var complete = await sink.WaitForAsync(posted.Count, TimeSpan.FromSeconds(30));
        var (exactlyOnce, _) = CheckExactlyOnce(posted, await DeadLettersAsync(), deadLetteredBefore);
        return new FloodResult(acceptedPerSecond, errors, Percentiles(latencies), refused, refused / floodSeconds,
            apiMsPerRefusal, complete ? exactlyOnce : "incomplete: " + exactlyOnce);
    }

    public const int FloodRequests = 10_000;

    /// <summary>Requests without a key from <c>clients</c> connections: how many got 401, and how long they took.</summary>
    private async Task<(int Refused, double Seconds)> FloodAsync(HttpClient anonymous)
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(SampleJob.Request(0));
        var json = new MediaTypeHeaderValue("application/json");
        var next = -1;
        var refused = 0;
        var started = Stopwatch.GetTimestamp();
        await Task.WhenAll(Enumerable.Range(0, clients).Select(async _ =>
        {
            while (Interlocked.Increment(ref next) < FloodRequests)
            {
                using var content = new ByteArrayContent(body);
                content.Headers.ContentType = json;
                using var response = await anonymous.PostAsync("/api/send-email", content);
                if (response.StatusCode == HttpStatusCode.Unauthorized)
                    Interlocked.Increment(ref refused);
            }
        }));
        return (refused, Seconds(started, Stopwatch.GetTimestamp()));
    }

    /// <summary>
    /// The same count again with API and worker not competing for the cores: the worker is frozen (SIGSTOP) while
    /// the API takes every job, then thawed (SIGCONT) to drain the queue alone. Not a target; it shows what each
    /// side does with the machine to itself, next to the run above where they share it.
    /// </summary>
    private async Task<ApartResult> EachSideAloneAsync(HttpClient http, ServiceUnderTest api, ServiceUnderTest worker, uint deadLetteredBefore)
    {
        sink.Reset();
        var posted = new ConcurrentDictionary<string, long>();
        var latencies = new ConcurrentBag<double>();
        worker.Freeze();
        var apiCpu = new CpuMeter().Add("api", () => api.CpuTime).Add("bench (HTTP clients)", CpuMeter.Self).Add("broker", CpuMeter.Broker);
        apiCpu.Start();
        var started = Stopwatch.GetTimestamp();
        var errors = await PostAllAsync(http, Bodies(count, "alone"), clients, posted, latencies);
        var acceptedPerSecond = posted.Count / Seconds(started, Stopwatch.GetTimestamp());
        var apiCpuPerJob = apiCpu.PerJobMs(posted.Count);

        // The same count again through POST /api/send-email/batch, 100 jobs a request, 8 requests at a time.
        var single = posted.Count;
        var batchCpu = new CpuMeter().Add("api", () => api.CpuTime).Add("bench (HTTP clients)", CpuMeter.Self).Add("broker", CpuMeter.Broker);
        batchCpu.Start();
        var batchStarted = Stopwatch.GetTimestamp();
        var batchErrors = await PostBatchesAsync(http, Bodies(count, "batch"), BatchSize, BatchClients, posted);
        var batchAccepted = posted.Count - single;
        var batch = new BatchResult(BatchSize, BatchClients, batchAccepted / Seconds(batchStarted, Stopwatch.GetTimestamp()), batchErrors,
            batchCpu.PerJobMs(Math.Max(batchAccepted, 1)));

        // The API stays in the count (it no longer consumes events; its share should be near zero).
        var workerCpu = new CpuMeter().Add("worker", () => worker.CpuTime).Add("api", () => api.CpuTime)
            .Add("bench (sink)", CpuMeter.Self).Add("broker", CpuMeter.Broker);
        workerCpu.Start();
        var thawed = Stopwatch.GetTimestamp();
        worker.Thaw();
        var complete = await sink.WaitForAsync(posted.Count, TimeSpan.FromSeconds(30));
        var deliveredAt = sink.Arrivals.Values.Max(a => a[0]);
        var workerCpuPerJob = workerCpu.PerJobMs(posted.Count);
        var (exactlyOnce, _) = CheckExactlyOnce(posted, await DeadLettersAsync(), deadLetteredBefore);
        return new ApartResult(acceptedPerSecond, errors, Percentiles(latencies), apiCpuPerJob,
            posted.Count / Seconds(thawed, deliveredAt), workerCpuPerJob, complete ? exactlyOnce : "incomplete: " + exactlyOnce, batch);
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

    private static List<(string Id, byte[] Body)> Bodies(int n, string tag) =>
        Enumerable.Range(0, n).Select(i => ($"{tag}-{i}", JsonSerializer.SerializeToUtf8Bytes(SampleJob.Request(i)))).ToList();

    public const int BatchSize = 100, BatchClients = 8;

    /// <summary>Posts the bodies as JSON arrays of <paramref name="size"/>; every item answered queued counts as posted.</summary>
    private static async Task<int> PostBatchesAsync(HttpClient http, List<(string Id, byte[] Body)> bodies, int size, int clients,
        ConcurrentDictionary<string, long> posted)
    {
        var batches = bodies.Chunk(size).Select(chunk =>
        {
            var array = new byte[chunk.Sum(b => b.Body.Length) + chunk.Length + 1];
            var at = 0;
            array[at++] = (byte)'[';
            foreach (var (_, body) in chunk)
            {
                body.CopyTo(array, at);
                at += body.Length;
                array[at++] = (byte)',';
            }
            array[at - 1] = (byte)']';
            return array;
        }).ToList();
        var next = -1;
        var errors = 0;
        var json = new MediaTypeHeaderValue("application/json");
        await Task.WhenAll(Enumerable.Range(0, clients).Select(async _ =>
        {
            int n;
            while ((n = Interlocked.Increment(ref next)) < batches.Count)
            {
                var start = Stopwatch.GetTimestamp();
                using var content = new ByteArrayContent(batches[n]);
                content.Headers.ContentType = json;
                using var response = await http.PostAsync("/api/send-email/batch", content);
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    Interlocked.Add(ref errors, size);
                    continue;
                }
                using var answer = JsonDocument.Parse(await response.Content.ReadAsStreamAsync());
                foreach (var item in answer.RootElement.EnumerateArray())
                    if (item.GetProperty("status").ValueKind == JsonValueKind.String)
                        posted[item.GetProperty("id").GetString()!] = start;
                    else
                        Interlocked.Increment(ref errors);
            }
        }));
        return errors;
    }

    private static async Task<int> PostAllAsync(HttpClient http, List<(string Id, byte[] Body)> bodies, int clients,
        ConcurrentDictionary<string, long> posted, ConcurrentBag<double> latencies)
    {
        var next = -1;
        var errors = 0;
        var json = new MediaTypeHeaderValue("application/json");
        await Task.WhenAll(Enumerable.Range(0, clients).Select(async _ =>
        {
            int n;
            while ((n = Interlocked.Increment(ref next)) < bodies.Count)
            {
                var start = Stopwatch.GetTimestamp();
                using var content = new ByteArrayContent(bodies[n].Body);
                content.Headers.ContentType = json;
                using var response = await http.PostAsync("/api/send-email", content);
                var elapsed = Seconds(start, Stopwatch.GetTimestamp()) * 1000;
                if (response.StatusCode != HttpStatusCode.Accepted)
                {
                    Interlocked.Increment(ref errors);
                    continue;
                }
                using var body = JsonDocument.Parse(await response.Content.ReadAsStreamAsync());
                posted[body.RootElement.GetProperty("id").GetString()!] = start;
                latencies.Add(elapsed);
            }
        }));
        return errors;
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

    private static async Task WaitReadyAsync(HttpClient http)
    {
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                if ((await http.GetAsync("/health/ready")).IsSuccessStatusCode)
                    return;
            }
            catch (HttpRequestException)
            {
                // not listening yet
            }
            await Task.Delay(100);
        }
        throw new TimeoutException("the API did not become ready");
    }

    private static Percentile Percentiles(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        double At(double q) => sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)(q * sorted.Length))];
        return new Percentile(At(0.50), At(0.95), At(0.99), sorted.Length == 0 ? double.NaN : sorted[^1]);
    }

    public static double Seconds(long from, long to) => (to - from) / (double)Stopwatch.Frequency;

    internal static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }
}

public sealed record Percentile(double P50, double P95, double P99, double Max);

public sealed class MemorySamples
{
    public long ApiStart { get; set; }
    public long ApiTenth { get; set; }
    public long ApiEnd { get; set; }
    public long WorkerStart { get; set; }
    public long WorkerTenth { get; set; }
    public long WorkerEnd { get; set; }
}

public sealed record PipelineResult(
    int Count, int Clients, int Accepted, int Errors,
    double AcceptedPerSecond, double DeliveredPerSecond,
    Percentile PostLatencyMs, Percentile EndToEndMs,
    string ExactlyOnce, MemorySamples Memory, double[] DeliveredPerSecondByTenth, Dictionary<string, double> CpuMsPerJob,
    ApartResult? EachSideAlone, FloodResult? UnderAFlood);

/// <param name="ApiCpuMsPerRefusal">the API's CPU per 401 while the flood ran alone.</param>
public sealed record FloodResult(
    double AcceptedPerSecond, int Errors, Percentile PostLatencyMs, int Refused, double RefusedPerSecond, double ApiCpuMsPerRefusal,
    string ExactlyOnce);

public sealed record ApartResult(
    double ApiAcceptedPerSecond, int ApiErrors, Percentile ApiPostLatencyMs, Dictionary<string, double> ApiCpuMsPerJob,
    double WorkerDeliveredPerSecond, Dictionary<string, double> WorkerCpuMsPerJob, string ExactlyOnce, BatchResult? Batch = null);

/// <summary>The API alone taking jobs through the batch endpoint.</summary>
public sealed record BatchResult(int Size, int Clients, double AcceptedPerSecond, int Errors, Dictionary<string, double> CpuMsPerJob);
