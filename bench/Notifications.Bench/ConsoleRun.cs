using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;
using Notifications.Core.Broker;
using Notifications.Core.Clients;
using Notifications.Core.Contract;
using Notifications.Core.Topology;
using RabbitMQ.Client;

namespace Notifications.Bench;

/// <summary>
/// The operator console at scale: <paramref name="count"/> dead letters (50 recipient domains, five causes) in
/// <c>email.dead</c>, indexed by the real <c>dlq reindex</c>, then the real API (its own process) signed in as an operator:
/// each page and search timed (the first load of the index and then warm), and one domain's group replayed from the
/// console and timed until its operation page says it is done.
/// </summary>
public sealed partial class ConsoleRun(string root, Uri broker, string prefix, int count)
{
    public const int Domains = 50;
    private static readonly string OperatorKey = "ntf_bench_" + Guid.NewGuid().ToString("N");

    public async Task<ConsoleResult> RunAsync()
    {
        var names = new TopologyNames(prefix);
        var factory = new ConnectionFactory { Uri = broker, ClientProvidedName = "bench-console" };
        await using var connection = await factory.CreateConnectionAsync();
        await new TopologyDeclarer(names, Microsoft.Extensions.Logging.Abstractions.NullLogger<TopologyDeclarer>.Instance)
            .DeclareAsync(connection, CancellationToken.None);
        var ids = await FillAsync(connection, names);
        var store = Path.Combine(Path.GetTempPath(), prefix + "console.db");
        var environment = new Dictionary<string, string>
        {
            ["RabbitMq__Uri"] = broker.ToString(),
            ["RabbitMq__Prefix"] = prefix,
            ["Store__Path"] = store,
            ["Serilog__MinimumLevel__Default"] = "Warning",
        };
        try
        {
            var reindex = Stopwatch.StartNew();
            await new DlqRun(root, broker, prefix, count).RunDlqAsync(environment, "reindex");
            var reindexSeconds = reindex.Elapsed.TotalSeconds;

            var port = HttpLoad.FreePort();
            using var api = ServiceUnderTest.Start(root, "Notifications.Api", new Dictionary<string, string>(environment)
            {
                ["Urls"] = $"http://127.0.0.1:{port}",
                ["Api__MaxQueueDepth"] = "0",
                ["Clients__ops__KeyHashes__0"] = ClientRegistry.HashOf(OperatorKey),
                ["Clients__ops__Operator"] = "true",
            });
            using var http = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false })
            {
                BaseAddress = new Uri($"http://127.0.0.1:{port}"),
                Timeout = TimeSpan.FromMinutes(2),
            };
            await SignInAsync(http);
            var start = await FirstRequestAsync(http);

            var probe = ids[count / 2];
            var pages = new List<PageTiming>();
            foreach (var (what, path) in new[]
            {
                ("dead letters, grouped", "/console/dead-letters"),
                ("overview (queue counts, index against queue)", "/console"),
                ("search by recipient", $"/console/dead-letters?q={Uri.EscapeDataString(probe.Recipient)}"),
                ("search by job id", $"/console/dead-letters?q={probe.Id}"),
                ("search by words of the error", "/console/dead-letters?q=greylisted"),
                ("filter: one domain", "/console/dead-letters?domain=d7.example"),
                ("page 1,000 of the letters", "/console/dead-letters?page=1000"),
                ("one letter", $"/console/dead-letters/{probe.Id}"),
                ("a recipient's dead letters", $"/console/jobs?q={Uri.EscapeDataString(probe.Recipient)}"),
            })
                pages.Add(await TimeAsync(http, what, path));

            // One domain's group, replayed from the console (a fiftieth of the letters, all causes).
            var confirm = await http.GetStringAsync("/console/dead-letters/confirm?action=replay&domain=d7.example");
            var expected = int.Parse(ReplayCount().Match(confirm).Groups[1].Value.Replace(",", ""));
            var started = Stopwatch.StartNew();
            using var post = await http.PostAsync("/console/dead-letters/confirm", new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["action"] = "replay", ["domain"] = "d7.example", ["__token"] = TokenOf(confirm),
            }));
            var operation = post.Headers.Location?.ToString() ?? throw new InvalidOperationException($"the replay did not start: {(int)post.StatusCode}");
            string page;
            while ((page = await http.GetStringAsync(operation)).Contains("reloads every second", StringComparison.Ordinal))
                await Task.Delay(50);
            var replaySeconds = started.Elapsed.TotalSeconds;
            var replayed = int.Parse(Replayed().Match(page).Groups[1].Value.Replace(",", ""));
            return new ConsoleResult(count, reindexSeconds, start, pages, expected, replayed, replayed / replaySeconds, api.WorkingSetBytes,
                replayed == expected && expected == count / Domains ? "ok" : $"replayed {replayed} of {expected} (expected {count / Domains})");
        }
        finally
        {
            foreach (var file in new[] { store, store + "-wal", store + "-shm" })
                File.Delete(file);
        }
    }

    private static async Task SignInAsync(HttpClient http)
    {
        for (var tries = 0; ; tries++)
        {
            try
            {
                var form = await http.GetStringAsync("/console/sign-in");
                using var signIn = await http.PostAsync("/console/sign-in", new FormUrlEncodedContent(new Dictionary<string, string>
                {
                    ["key"] = OperatorKey, ["__token"] = TokenOf(form),
                }));
                if (signIn.StatusCode != HttpStatusCode.Redirect)
                    throw new InvalidOperationException($"sign-in answered {(int)signIn.StatusCode}");
                return;
            }
            catch (HttpRequestException) when (tries < 100)
            {
                await Task.Delay(200); // the API is still starting
            }
        }
    }

    /// <summary>
    /// The dead-letter page asked for as soon as the API lets an operator in, while it reads the index: how long the answer
    /// took, whether it said the index is loading, and when (reloading as the page does itself) it showed the letters.
    /// </summary>
    private static async Task<FirstRequest> FirstRequestAsync(HttpClient http)
    {
        var clock = Stopwatch.StartNew();
        var page = await http.GetStringAsync("/console/dead-letters");
        var answeredMs = clock.Elapsed.TotalMilliseconds;
        var saidLoading = page.Contains(LoadingNotice, StringComparison.Ordinal);
        while (page.Contains(LoadingNotice, StringComparison.Ordinal))
        {
            await Task.Delay(50);
            page = await http.GetStringAsync("/console/dead-letters");
        }
        return new FirstRequest(answeredMs, saidLoading, clock.Elapsed.TotalMilliseconds);
    }

    private const string LoadingNotice = "still reading the index of dead letters";

    private static async Task<PageTiming> TimeAsync(HttpClient http, string what, string path)
    {
        var times = new List<double>();
        for (var i = 0; i < 6; i++)
        {
            var clock = Stopwatch.StartNew();
            using var response = await http.GetAsync(path);
            await response.Content.ReadAsByteArrayAsync();
            times.Add(clock.Elapsed.TotalMilliseconds);
            if (!response.IsSuccessStatusCode)
                throw new InvalidOperationException($"{path} answered {(int)response.StatusCode}");
        }
        var warm = times.Skip(1).Order().ToList();
        return new PageTiming(what, path, times[0], warm[warm.Count / 2], warm[^1]);
    }

    private static string TokenOf(string html) => Token().Match(html) is { Success: true } match
        ? WebUtility.HtmlDecode(match.Groups[1].Value)
        : throw new InvalidOperationException("no antiforgery token in the form");

    [GeneratedRegex("name=\"__token\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex Token();

    [GeneratedRegex(@"Replay <strong>([\d,]+)</strong> dead letter")]
    private static partial Regex ReplayCount();

    [GeneratedRegex(@"([\d,]+) replayed, ([\d,]+) failed")]
    private static partial Regex Replayed();

    private static readonly string[] Errors =
    [
        "SMTP 451 RecipientNotAccepted: every recipient was refused: {0} 451 4.7.1 greylisted, try again in 300 seconds",
        "SMTP 421 4.4.2 mx.{1} connection timed out",
        "SMTP 550 5.7.1 <{0}>: message rejected as spam (id {2})",
        "SMTP 552 5.3.4 message size exceeds fixed limit",
        "SMTP connection failed (ConnectionRefused): Connection refused",
    ];

    private async Task<List<(string Id, string Recipient)>> FillAsync(IConnection connection, TopologyNames names)
    {
        var ids = new (string Id, string Recipient)[count];
        await using var publisher = await connection.CreateChannelAsync(ConfirmWindow.ChannelOptions(BrokerCeiling.InFlight));
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, BrokerCeiling.InFlight).Select(async _ =>
        {
            int n;
            while ((n = Interlocked.Increment(ref next)) < count)
            {
                var domain = $"d{n % Domains}.example";
                var recipient = $"user{n}@{domain}";
                var job = SampleJob.Job($"dead-{n}") with { To = [recipient] };
                ids[n] = (job.Id, recipient);
                var properties = JobProperties.ForNewJob(job);
                var error = Errors[n / Domains % Errors.Length];
                properties.Headers![JobHeaders.FailureKind] = error.Contains("SMTP 5", StringComparison.Ordinal) ? "permanent" : "transient";
                properties.Headers[JobHeaders.Attempts] = 4;
                properties.Headers[JobHeaders.LastError] = string.Format(error, recipient, domain, Guid.NewGuid().ToString("N"));
                properties.Headers[JobHeaders.LastFailedAt] = JobProperties.Time(DateTimeOffset.UtcNow.AddSeconds(-n));
                await publisher.BasicPublishAsync(names.Exchange, TopologyNames.DeadKey, mandatory: true, properties, JobCodec.Encode(job));
            }
        }));
        return [.. ids];
    }
}

/// <param name="AnsweredMs">the first request's answer; <paramref name="SaidLoading"/>: it said the index is still loading.</param>
/// <param name="ShownMs">from the first request until the page showed the letters.</param>
public sealed record FirstRequest(double AnsweredMs, bool SaidLoading, double ShownMs);

/// <param name="FirstMs">the first request (after the index was loaded).</param>
/// <param name="MedianMs">the median of the five after it; <paramref name="MaxMs"/> the slowest of them.</param>
public sealed record PageTiming(string What, string Path, double FirstMs, double MedianMs, double MaxMs);

/// <param name="ReplayPerSecond">one domain's group replayed from the console, from the POST to the result page.</param>
public sealed record ConsoleResult(int Count, double ReindexSeconds, FirstRequest Start, List<PageTiming> Pages, int GroupExpected, int GroupReplayed,
    double ReplayPerSecond, long ApiWorkingSetBytes, string ExactlyOnce);
