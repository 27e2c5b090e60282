using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace Notifications.Bench;

/// <summary>The API under a flood of requests without a key.</summary>
public sealed partial class PipelineRun
{
    /// <summary>
    /// First the flood alone: <see cref="FloodRequests"/> requests without a key, for the API's CPU per refusal (401).
    /// Then the API alone again (worker frozen) taking the same count from the authenticated clients while the flood
    /// runs again from as many clients: what it costs the paying callers. Then the worker drains the jobs, once each.
    /// </summary>
    private async Task<FloodResult> UnderAFloodAsync(HttpClient http, ServiceUnderTest api, ServiceUnderTest worker, uint deadLetteredBefore)
    {
        var (posted, latencies) = NewPhase();
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
        var errors = await HttpLoad.PostAllAsync(http, HttpLoad.Bodies(count, "flood"), clients, posted, latencies);
        var acceptedPerSecond = posted.Count / HttpLoad.Seconds(started, Stopwatch.GetTimestamp());
        await flood;
        worker.Thaw();
        var complete = await sink.WaitForAsync(posted.Count, TimeSpan.FromSeconds(30));
        var (exactlyOnce, _) = CheckExactlyOnce(posted, await DeadLettersAsync(), deadLetteredBefore);
        return new FloodResult(acceptedPerSecond, errors, HttpLoad.Percentiles(latencies), refused, refused / floodSeconds,
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
        return (refused, HttpLoad.Seconds(started, Stopwatch.GetTimestamp()));
    }
}
