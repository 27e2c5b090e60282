using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Notifications.Core.Contract;
using Notifications.Core.Telemetry;
using Notifications.Tests.Infrastructure;

namespace Notifications.Tests.Integration;

/// <summary>Metrics and traces: what /metrics shows matches what the test did, and one job is one trace.</summary>
public sealed partial class TelemetryTests(Xunit.Abstractions.ITestOutputHelper output)
{
    [Fact]
    public async Task Metrics_endpoints_count_what_happened()
    {
        await using var pipeline = await Pipeline.StartAsync(api: false, worker: false);
        var apiPort = FreePort.Next();
        var workerMetricsPort = FreePort.Next();
        var settings = new Dictionary<string, string?>(pipeline.Settings)
        {
            ["Urls"] = $"http://127.0.0.1:{apiPort}",
            ["OpenTelemetry:WorkerMetricsPort"] = workerMetricsPort.ToString(CultureInfo.InvariantCulture),
        };
        // Processes of their own, so no other test's jobs are in the counts.
        using var api = ServiceProcess.StartApi(settings);
        using var worker = ServiceProcess.StartWorker(settings);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{apiPort}") };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", TestClients.Key);
        await Eventually.ReturnsAsync(async () => await TryGetAsync(http, "/health/ready"), ok => ok, "the API process ready", TimeSpan.FromSeconds(60));
        pipeline.Relay.Script(TestRelay.Permanent());

        for (var i = 0; i < 3; i++)
            await Jobs.PostAndGetIdAsync(http, Jobs.Valid($"counted {i}"));
        await http.PostAsync("/api/send-email", Jobs.Json("{}"));
        await Eventually.TrueAsync(() => pipeline.Relay.Accepted.Count == 2, "two mails");
        await Eventually.ReturnsAsync(() => pipeline.Queues.CountAsync(pipeline.Names.DeadQueue), n => n == 1, "one dead letter");

        var workerMetrics = await Eventually.ReturnsAsync(() => ScrapeAsync($"http://127.0.0.1:{workerMetricsPort}/metrics"),
            m => Value(m, "notifications_jobs_sent_total") == 2 && Value(m, "notifications_jobs_dead_lettered_total", "kind=\"permanent\"") == 1,
            "worker counters", TimeSpan.FromSeconds(20));
        var apiMetrics = await Eventually.ReturnsAsync(() => ScrapeAsync($"http://127.0.0.1:{apiPort}/metrics"),
            m => Value(m, "notifications_queue_depth", $"queue=\"{pipeline.Names.DeadQueue}\"") == 1,
            "the DLQ depth sample", TimeSpan.FromSeconds(20));

        output.WriteLine("API /metrics (ours):\n" + string.Join('\n', apiMetrics.Split('\n').Where(l => l.StartsWith("notifications_") || l.StartsWith("messaging_") || l.Contains("status_code=\"4") || l.Contains("status_code=\"2")).Where(l => !l.Contains("_bucket"))));
        output.WriteLine("worker /metrics (ours):\n" + string.Join('\n', workerMetrics.Split('\n').Where(l => l.StartsWith("notifications_") || l.StartsWith("messaging_")).Where(l => !l.Contains("_bucket"))));
        Assert.Equal(3, Value(apiMetrics, "notifications_jobs_accepted_total"));
        Assert.Equal(3, Value(apiMetrics, "http_server_request_duration_seconds_count", "http_response_status_code=\"202\""));
        Assert.Equal(1, Value(apiMetrics, "http_server_request_duration_seconds_count", "http_response_status_code=\"400\""));
        Assert.Equal(3, Value(apiMetrics, "messaging_client_sent_messages_total", "messaging_destination_name=\"email.send\""));
        Assert.Equal(3, Value(workerMetrics, "messaging_client_consumed_messages_total"));
        Assert.Equal(2, Value(workerMetrics, "notifications_job_delivery_duration_seconds_count"));
        Assert.Equal(3, Value(workerMetrics, "notifications_smtp_send_duration_seconds_count"));
        Assert.Equal(0, Value(workerMetrics, "notifications_smtp_circuit_state"));
    }

    [Fact]
    public async Task Every_attempt_of_a_job_is_in_the_trace_that_the_request_started()
    {
        var stopped = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == NotificationsTelemetry.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = stopped.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);
        await using var pipeline = await Pipeline.StartAsync();
        pipeline.Relay.Script(TestRelay.Transient());

        var id = await Jobs.PostAndGetIdAsync(pipeline.Http, Jobs.Valid("traced"));
        await Eventually.TrueAsync(() => pipeline.Relay.Accepted.Count == 1, "delivery after one retry");
        await Eventually.TrueAsync(() => stopped.Count(a => IsAbout(a, id) && a.Kind == ActivityKind.Consumer) == 2, "two consumer spans");

        var publish = stopped.Single(a => IsAbout(a, id) && a.Kind == ActivityKind.Producer);
        var attempts = stopped.Where(a => IsAbout(a, id) && a.Kind == ActivityKind.Consumer).ToList();
        Assert.All(attempts, a => Assert.Equal(publish.TraceId, a.TraceId));
        Assert.All(attempts, a => Assert.Equal(publish.SpanId, a.ParentSpanId));
        Assert.Equal([1, 2], attempts.Select(a => (int)a.GetTagItem("notifications.attempt")!).Order());
        Assert.Contains(stopped, a => a.OperationName == "smtp send" && a.TraceId == publish.TraceId);
    }

    [Fact]
    public async Task The_job_message_carries_traceparent()
    {
        await using var pipeline = await Pipeline.StartAsync(worker: false);
        await Jobs.PostAndGetIdAsync(pipeline.Http, Jobs.Valid());
        var message = (await pipeline.Queues.WaitAndTakeAsync(pipeline.Names.SendQueue, 1)).Single();
        Assert.Matches("^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$", message.Header(JobHeaders.TraceParent) ?? "");
    }

    private static bool IsAbout(Activity activity, string jobId) => (activity.GetTagItem("messaging.message.id") as string) == jobId;

    private static async Task<bool> TryGetAsync(HttpClient http, string path)
    {
        try
        {
            return (await http.GetAsync(path)).IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }

    private static async Task<string> ScrapeAsync(string url)
    {
        using var http = new HttpClient();
        try
        {
            return await http.GetStringAsync(url);
        }
        catch (HttpRequestException)
        {
            return "";
        }
    }

    /// <summary>The sum of a metric's samples whose labels contain <paramref name="label"/>.</summary>
    private static double Value(string scrape, string name, string label = "") =>
        Sample().Matches(scrape)
            .Where(m => m.Groups["name"].Value == name && m.Groups["labels"].Value.Contains(label, StringComparison.Ordinal))
            .Sum(m => double.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture));

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(?<labels>[^}]*)\})? (?<value>[-+0-9.eE]+|NaN)(?: \d+)?$", RegexOptions.Multiline)]
    private static partial Regex Sample();
}
