using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Notifications.Core.Bounces;
using Notifications.Core.Store;

namespace Notifications.Bench;

/// <summary>
/// The inbound receiver's throughput: N hard-bounce DSNs (Postfix's format) for N sent jobs, delivered over SMTP by a few
/// concurrent sessions to the receiver, published to <c>email.inbound</c>, read and recorded by the worker's consumer
/// (suppression, job status, reputation, event). Receiver and worker run in this process, as hosts, on the bench broker.
/// </summary>
public static class InboundRun
{
    public const int Sessions = 8;
    private const string Domain = "bounces.example.com";

    public static async Task<InboundResult> RunAsync(Uri broker, string prefix, int count, int warmUpSeconds)
    {
        var folder = Directory.CreateTempSubdirectory("bench-inbound-").FullName;
        var port = FreePort();
        var settings = new Dictionary<string, string?>
        {
            ["RabbitMq:Uri"] = broker.ToString(),
            ["RabbitMq:Prefix"] = prefix,
            ["Store:Path"] = Path.Combine(folder, "store.db"),
            ["Bounces:Domain"] = Domain,
            ["Bounces:Secret"] = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)),
            ["Bounces:Listen"] = $"127.0.0.1:{port}",
            ["Smtp:Port"] = "1", // nothing is sent: the worker only reads email.inbound here
            ["Serilog:MinimumLevel:Default"] = "Warning",
            ["Serilog:MinimumLevel:Override:Microsoft.Hosting.Lifetime"] = "Warning", // the hosts run in the bench process: keep its output the table
            ["OpenTelemetry:WorkerMetricsPort"] = "0",
            ["OpenTelemetry:InboundMetricsPort"] = "0",
            ["Clients:bench:KeyHashes:0"] = new string('0', 64),
            ["Clients:bench:AllowedFrom:0"] = "no-reply@example.com",
            ["Reputation:Enabled"] = "false",
        };
        try
        {
            var returnPath = new ReturnPath(Options.Create(new BouncesOptions { Domain = Domain, Secret = settings["Bounces:Secret"]! }));
            // Warm-up rounds of 1,000 reports (their jobs too) until warmUpSeconds passed, then the measured count.
            const int WarmUpRound = 1_000;
            var rounds = warmUpSeconds == 0 ? 0 : Math.Max(1, warmUpSeconds * 300 / WarmUpRound); // at most; the clock decides
            var jobs = Enumerable.Range(0, count + rounds * WarmUpRound).Select(_ => Guid.CreateVersion7().ToString()).ToList();
            var store = new SqliteJobStore(Options.Create(new StoreOptions { Path = settings["Store:Path"]! }));
            await Task.WhenAll(jobs.Select(id => store.SetStatusAsync(new JobStatus(id, JobStatus.Sent, DateTimeOffset.UtcNow, 1, Client: "bench"), default)));
            await store.DisposeAsync();
            var reports = jobs.Select((id, i) => (Rcpt: returnPath.AddressFor(id)!, Body: Dsn(id, returnPath.AddressFor(id)!, $"gone{i}@example.org"))).ToList();

            using var recorded = new RecordedCounter();
            using var inbound = Notifications.Inbound.NotificationsInbound.Create([], c => c.AddInMemoryCollection(settings));
            using var worker = Notifications.Worker.NotificationsWorker.Create([], c => c.AddInMemoryCollection(settings));
            await inbound.StartAsync();
            await worker.StartAsync();
            await Task.Delay(TimeSpan.FromSeconds(2)); // connected, topology declared, consuming

            var refused = 0;
            async Task SendAsync(List<(string Rcpt, byte[] Body)> batch) => await Task.WhenAll(Enumerable.Range(0, Sessions).Select(async session =>
            {
                using var client = new TcpClient { NoDelay = true };
                await client.ConnectAsync("127.0.0.1", port);
                var smtp = new Session(client.GetStream());
                await smtp.ReplyAsync();
                await smtp.CommandAsync("EHLO mail.example.net");
                for (var i = session; i < batch.Count; i += Sessions)
                    if (!(await smtp.DeliverAsync(batch[i].Rcpt, batch[i].Body)).StartsWith("250", StringComparison.Ordinal))
                        Interlocked.Increment(ref refused);
                await smtp.CommandAsync("QUIT");
            }));
            async Task WaitRecordedAsync(int total, Stopwatch since)
            {
                while (recorded.Value < total && since.Elapsed < TimeSpan.FromMinutes(5))
                    await Task.Delay(20);
            }

            var warm = Stopwatch.StartNew();
            var warmed = 0;
            for (var round = 0; round < rounds && warm.Elapsed < TimeSpan.FromSeconds(warmUpSeconds); round++)
            {
                await SendAsync(reports.GetRange(count + round * WarmUpRound, WarmUpRound));
                warmed += WarmUpRound;
                await WaitRecordedAsync(warmed, warm);
            }
            refused = 0;

            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            var clock = Stopwatch.StartNew();
            await SendAsync(reports.GetRange(0, count));
            var received = clock.Elapsed;
            await WaitRecordedAsync(warmed + count, clock);
            var done = clock.Elapsed;
            var cpuMs = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMilliseconds;
            await worker.StopAsync();
            await inbound.StopAsync();
            return new InboundResult(count, refused, count / received.TotalSeconds, (recorded.Value - warmed) / done.TotalSeconds, recorded.Value - warmed, cpuMs / count,
                reports[0].Body.Length);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static byte[] Dsn(string jobId, string returnPath, string recipient) => Encoding.ASCII.GetBytes($"""
        From: MAILER-DAEMON@mail.example.net (Mail Delivery System)
        To: {returnPath}
        Subject: Undelivered Mail Returned to Sender
        Auto-Submitted: auto-replied
        MIME-Version: 1.0
        Content-Type: multipart/report; report-type=delivery-status; boundary="b1"

        --b1
        Content-Type: text/plain; charset=us-ascii

        I'm sorry to have to inform you that your message could not be delivered.

        --b1
        Content-Type: message/delivery-status

        Reporting-MTA: dns; mail.example.net

        Final-Recipient: rfc822; {recipient}
        Action: failed
        Status: 5.1.1
        Diagnostic-Code: smtp; 550 5.1.1 <{recipient}>: Recipient address rejected: User unknown

        --b1
        Content-Type: text/rfc822-headers

        From: Notifications <no-reply@example.com>
        To: {recipient}
        Subject: Your invoice
        Message-ID: <{jobId}@example.com>

        --b1--

        """.ReplaceLineEndings("\r\n"));

    private static int FreePort()
    {
        using var probe = new TcpListener(System.Net.IPAddress.Loopback, 0);
        probe.Start();
        return ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
    }

    /// <summary>Counts the worker's <c>notifications.inbound.messages{outcome=recorded}</c> in this process.</summary>
    private sealed class RecordedCounter : IDisposable
    {
        private readonly MeterListener _listener = new();
        private long _value;

        public RecordedCounter()
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Name == "notifications.inbound.messages")
                    listener.EnableMeasurementEvents(instrument);
            };
            _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
            {
                foreach (var tag in tags)
                    if (tag is { Key: "outcome", Value: "recorded" })
                        Interlocked.Add(ref _value, value);
            });
            _listener.Start();
        }

        public long Value => Interlocked.Read(ref _value);

        public void Dispose() => _listener.Dispose();
    }

    /// <summary>One SMTP session that delivers message after message, as a sending MTA does.</summary>
    private sealed class Session(NetworkStream stream)
    {
        private readonly StreamReader _reader = new(stream, Encoding.ASCII);

        public async Task<string> ReplyAsync()
        {
            string line;
            do
                line = await _reader.ReadLineAsync() ?? throw new IOException("the receiver closed the session");
            while (line.Length > 3 && line[3] == '-');
            return line;
        }

        public async Task<string> CommandAsync(string command)
        {
            await stream.WriteAsync(Encoding.ASCII.GetBytes(command + "\r\n"));
            return await ReplyAsync();
        }

        public async Task<string> DeliverAsync(string rcpt, byte[] body)
        {
            await CommandAsync("MAIL FROM:<>");
            await CommandAsync($"RCPT TO:<{rcpt}>");
            await CommandAsync("DATA");
            await stream.WriteAsync(body);
            return await CommandAsync(".");
        }
    }
}

/// <param name="ReceivedPerSecond">reports answered 250 a second (each published, confirmed, before its 250).</param>
/// <param name="RecordedPerSecond">reports read and recorded a second, from the first sent to the last recorded.</param>
/// <param name="CpuMsPerReport">CPU of this process (receiver and worker) per report.</param>
public sealed record InboundResult(int Reports, int Refused, double ReceivedPerSecond, double RecordedPerSecond, long Recorded, double CpuMsPerReport,
    int ReportBytes);
