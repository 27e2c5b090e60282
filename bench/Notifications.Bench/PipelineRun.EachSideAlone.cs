using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace Notifications.Bench;

/// <summary>API and worker each with the machine to itself, and the API through the batch endpoint.</summary>
public sealed partial class PipelineRun
{
    /// <summary>
    /// The same count again with API and worker not competing for the cores: the worker is frozen (SIGSTOP) while
    /// the API takes every job, then thawed (SIGCONT) to drain the queue alone. Not a target; it shows what each
    /// side does with the machine to itself, next to the run above where they share it.
    /// </summary>
    private async Task<ApartResult> EachSideAloneAsync(HttpClient http, ServiceUnderTest api, ServiceUnderTest worker, uint deadLetteredBefore)
    {
        var (posted, latencies) = NewPhase();
        worker.Freeze();
        var apiCpu = new CpuMeter().Add("api", () => api.CpuTime).Add("bench (HTTP clients)", CpuMeter.Self).Add("broker", CpuMeter.Broker);
        apiCpu.Start();
        var started = Stopwatch.GetTimestamp();
        var errors = await HttpLoad.PostAllAsync(http, HttpLoad.Bodies(count, "alone"), clients, posted, latencies);
        var acceptedPerSecond = posted.Count / HttpLoad.Seconds(started, Stopwatch.GetTimestamp());
        var apiCpuPerJob = apiCpu.PerJobMs(posted.Count);

        // The same count again through POST /api/send-email/batch, 100 jobs a request, 8 requests at a time.
        var single = posted.Count;
        var batchCpu = new CpuMeter().Add("api", () => api.CpuTime).Add("bench (HTTP clients)", CpuMeter.Self).Add("broker", CpuMeter.Broker);
        batchCpu.Start();
        var batchStarted = Stopwatch.GetTimestamp();
        var batchErrors = await HttpLoad.PostBatchesAsync(http, HttpLoad.Bodies(count, "batch"), BatchSize, BatchClients, posted);
        var batchAccepted = posted.Count - single;
        var batch = new BatchResult(BatchSize, BatchClients, batchAccepted / HttpLoad.Seconds(batchStarted, Stopwatch.GetTimestamp()), batchErrors,
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
        return new ApartResult(acceptedPerSecond, errors, HttpLoad.Percentiles(latencies), apiCpuPerJob,
            posted.Count / HttpLoad.Seconds(thawed, deliveredAt), workerCpuPerJob, complete ? exactlyOnce : "incomplete: " + exactlyOnce, batch);
    }

    public const int BatchSize = 100, BatchClients = 8;
}
