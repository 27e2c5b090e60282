namespace Notifications.Bench;

/// <summary>The inbound receiver and the worker's reading of what comes back: DSNs a second, received, parsed and recorded.</summary>
public sealed class InboundStage : IBenchStage
{
    public string Name => "inbound";

    public async Task RunAsync(BenchContext context)
    {
        var count = Math.Clamp(context.Options.Count / 4, 500, 20_000);
        Console.Error.WriteLine($"inbound receiver ({count} DSNs over {InboundRun.Sessions} SMTP sessions, read and recorded by the worker)...");
        context.Results.Inbound = await InboundRun.RunAsync(context.Broker, context.PrefixFor("inbound"), count, context.Options.WarmUpSeconds);
    }

    public void Report(BenchContext context, ReportTable table)
    {
        if (context.Results.Inbound is not { } r)
            return;
        table.Row($"inbound: {r.Reports} hard-bounce DSNs ({r.ReportBytes} bytes) over {InboundRun.Sessions} SMTP sessions → email.inbound → worker (receiver and worker in one process, SQLite store)",
            $"received {r.ReceivedPerSecond:0}/s (250 after each confirmed publish), read and recorded {r.RecordedPerSecond:0}/s " +
            $"(suppression, status, reputation, EmailBounced); {r.CpuMsPerReport:0.00} CPU ms per report; refused {r.Refused}, recorded {r.Recorded} of {r.Reports}");
    }
}
