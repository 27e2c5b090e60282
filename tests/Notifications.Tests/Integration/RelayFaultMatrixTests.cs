using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Notifications.Tests.Infrastructure;
using Notifications.Worker.Sending;
using Xunit.Abstractions;

namespace Notifications.Tests.Integration;

/// <summary>
/// Every kind of relay trouble, 20 seconds long, with the shipped defaults (appsettings.json: circuit break 5 s,
/// outage hold 10 min, retries 5 s / 25 s / 125 s): every job is mailed once, none is dead-lettered, and a job
/// posted as the relay recovers is mailed within CircuitBreakDuration + 5 s. One class a row, so the rows run side by side.
/// </summary>
public abstract class RelayFaultMatrix(ITestOutputHelper output)
{
    private static readonly TimeSpan FaultLength = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan PostEvery = TimeSpan.FromSeconds(2);

    protected virtual bool Tls => false;

    /// <summary>Settings the row is about (only those: everything else stays as shipped).</summary>
    protected virtual void Configure(Dictionary<string, string?> settings)
    {
    }

    protected abstract void Begin(TestRelay relay, TcpGate gate);

    protected abstract void End(TestRelay relay, TcpGate gate);

    [Fact]
    public async Task Every_job_is_mailed_once_none_is_dead_lettered_and_delivery_resumes_soon_after_the_relay_recovers()
    {
        using var certificate = Tls ? TestCertificate.Create() : null;
        var relay = new TestRelay(certificate?.Certificate, tlsOnConnect: true);
        await using var gate = new TcpGate(new IPEndPoint(IPAddress.Loopback, relay.Port));
        gate.Open();
        await using var pipeline = await Pipeline.StartAsync(shippedDefaults: true, relay: relay, configure: settings =>
        {
            settings["Smtp:Port"] = gate.Port.ToString();
            if (certificate is not null)
            {
                settings["Smtp:Security"] = "SslOnConnect";
                settings["Smtp:CaCertificate"] = certificate.PemPath;
            }
            Configure(settings);
        });
        var breakDuration = pipeline.WorkerServices.GetRequiredService<IOptions<SmtpOptions>>().Value.CircuitBreakDuration;

        var ids = new List<string> { await Jobs.PostAndGetIdAsync(pipeline.Http, Jobs.Valid("before the fault")) };
        // Sent as the worker sees it (status written after the relay's 250 reached it), not only as the relay does: a fault
        // begun between the relay storing the mail and its 250 arriving would lose the reply and rightly send it again.
        await Eventually.ReturnsAsync(async () => await pipeline.Http.GetStringAsync(JobStatusPath(ids[0])),
            body => body.Contains("\"status\":\"sent\"", StringComparison.Ordinal), "the job before the fault to be sent");

        Begin(relay, gate);
        var fault = Stopwatch.StartNew();
        for (var i = 0; fault.Elapsed < FaultLength; i++)
        {
            ids.Add(await Jobs.PostAndGetIdAsync(pipeline.Http, Jobs.Valid($"during the fault {i}")));
            await Task.Delay(PostEvery); // the pace of the scenario, not a wait for an outcome
        }
        var mailedDuringFault = relay.Accepted.Count - 1;
        End(relay, gate);
        var recovered = DateTimeOffset.UtcNow;

        var first = await Jobs.PostAndGetIdAsync(pipeline.Http, Jobs.Valid("as the relay recovers"));
        ids.Add(first);
        await Eventually.TrueAsync(() => relay.AcceptedJobIds.Contains(first), "the job posted as the relay recovers",
            breakDuration + TimeSpan.FromSeconds(5));
        var resumedAfter = relay.Accepted.Where(m => m.At >= recovered).Min(m => m.At) - recovered;

        // Jobs that failed an attempt wait out their retry delay (25 s at most for a second attempt) before they come back.
        await Eventually.TrueAsync(() => relay.AcceptedJobIds.Distinct().Count() >= ids.Count, "every job after the recovery",
            TimeSpan.FromSeconds(90));
        var dead = await pipeline.Queues.CountAsync(pipeline.Names.DeadQueue);
        output.WriteLine($"{GetType().Name}: {ids.Count} jobs, {mailedDuringFault} mailed during the 20 s fault, first mail " +
            $"{resumedAfter.TotalSeconds:0.0} s after recovery (bound {(breakDuration + TimeSpan.FromSeconds(5)).TotalSeconds:0} s), " +
            $"{relay.Accepted.Count} mails at the relay, {dead} dead-lettered");

        Assert.Equal(ids.Order(), relay.AcceptedJobIds.Order()); // each once
        Assert.Equal(0u, dead);
    }

    private static string JobStatusPath(string id) => "/api/emails/" + id;
}

public sealed class Relay_refusing_connections(ITestOutputHelper output) : RelayFaultMatrix(output)
{
    protected override void Begin(TestRelay relay, TcpGate gate) => gate.Close();

    protected override void End(TestRelay relay, TcpGate gate) => gate.Open();
}

public sealed class Relay_answering_421_at_connect(ITestOutputHelper output) : RelayFaultMatrix(output)
{
    protected override void Begin(TestRelay relay, TcpGate gate) => gate.Inject(GateFault.Answer421AtConnect);

    protected override void End(TestRelay relay, TcpGate gate) => gate.Inject(GateFault.None);
}

public sealed class Relay_answering_421_at_rcpt(ITestOutputHelper output) : RelayFaultMatrix(output)
{
    protected override void Begin(TestRelay relay, TcpGate gate) => relay.RecipientFault = TestRelay.ServiceNotAvailable();

    protected override void End(TestRelay relay, TcpGate gate) => relay.RecipientFault = null;
}

public sealed class Relay_answering_451_after_data(ITestOutputHelper output) : RelayFaultMatrix(output)
{
    protected override void Begin(TestRelay relay, TcpGate gate) => relay.DataFault = TestRelay.Transient();

    protected override void End(TestRelay relay, TcpGate gate) => relay.DataFault = null;
}

public sealed class Relay_dropping_the_connection_mid_data(ITestOutputHelper output) : RelayFaultMatrix(output)
{
    protected override void Begin(TestRelay relay, TcpGate gate) => gate.Inject(GateFault.DropMidData);

    protected override void End(TestRelay relay, TcpGate gate) => gate.Inject(GateFault.None);
}

/// <summary>The one row that shortens a setting: it is about Smtp:Timeout, which must pass within the 20 s (shipped: 30 s).</summary>
public sealed class Relay_hanging_past_the_smtp_timeout(ITestOutputHelper output) : RelayFaultMatrix(output)
{
    protected override void Configure(Dictionary<string, string?> settings) => settings["Smtp:Timeout"] = "00:00:05";

    protected override void Begin(TestRelay relay, TcpGate gate) => gate.Inject(GateFault.Hang);

    protected override void End(TestRelay relay, TcpGate gate) => gate.Inject(GateFault.None);
}

public sealed class Relay_failing_the_tls_handshake(ITestOutputHelper output) : RelayFaultMatrix(output)
{
    protected override bool Tls => true;

    protected override void Begin(TestRelay relay, TcpGate gate) => gate.Inject(GateFault.NotTls);

    protected override void End(TestRelay relay, TcpGate gate) => gate.Inject(GateFault.None);
}
