using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace Notifications.Bench;

/// <summary>What every HTTP stage does: make job bodies, post them from N clients, time it.</summary>
public static class HttpLoad
{
    public static List<(string Id, byte[] Body)> Bodies(int n, string tag) =>
        Enumerable.Range(0, n).Select(i => ($"{tag}-{i}", JsonSerializer.SerializeToUtf8Bytes(SampleJob.Request(i)))).ToList();

    /// <summary>Posts the bodies as JSON arrays of <paramref name="size"/>; every item answered queued counts as posted.</summary>
    public static async Task<int> PostBatchesAsync(HttpClient http, List<(string Id, byte[] Body)> bodies, int size, int clients,
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

    public static async Task<int> PostAllAsync(HttpClient http, List<(string Id, byte[] Body)> bodies, int clients,
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

    /// <summary>
    /// Jobs through the whole path before measuring, ending with an empty sink: <paramref name="jobs"/> first, then rounds
    /// of 1,000 (and, with <paramref name="batches"/>, 1,000 more through the batch endpoint) until <paramref name="seconds"/> have passed. The runtime keeps recompiling hot code for tens of seconds
    /// under load (tiered JIT, PGO): without this a run of 20,000 jobs measures mostly that (bench/README.md).
    /// </summary>
    public static async Task WarmUpAsync(HttpClient http, BenchSink sink, int jobs, int clients, int seconds, bool batches)
    {
        var clock = Stopwatch.StartNew();
        for (var round = 0; round == 0 || clock.Elapsed < TimeSpan.FromSeconds(seconds); round++)
        {
            var size = round == 0 ? jobs : 1_000;
            sink.Reset();
            await PostAllAsync(http, Bodies(size, $"warm{round}"), clients, new ConcurrentDictionary<string, long>(), new ConcurrentBag<double>());
            // The batch endpoint too: its phase lasts a second or two, all of it in code not yet compiled for speed otherwise.
            var batched = round == 0 || !batches ? 0 : 1_000;
            if (batched > 0)
                await PostBatchesAsync(http, Bodies(batched, $"warmbatch{round}"), PipelineRun.BatchSize, PipelineRun.BatchClients,
                    new ConcurrentDictionary<string, long>());
            size += batched;
            if (!await sink.WaitForAsync(size, TimeSpan.FromSeconds(30)))
                throw new TimeoutException($"warm-up: the sink saw {sink.Count} of {size} mails");
        }
        sink.Reset();
    }

    public static async Task WaitReadyAsync(HttpClient http)
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

    public static Percentile Percentiles(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        double At(double q) => sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)(q * sorted.Length))];
        return new Percentile(At(0.50), At(0.95), At(0.99), sorted.Length == 0 ? double.NaN : sorted[^1]);
    }

    public static double Seconds(long from, long to) => (to - from) / (double)Stopwatch.Frequency;

    public static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }
}
