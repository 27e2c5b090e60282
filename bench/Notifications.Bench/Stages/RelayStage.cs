namespace Notifications.Bench;

/// <summary>The relay's ceiling: MailKit straight to the sink over the configured connections.</summary>
public sealed class RelayStage : IBenchStage
{
    public string Name => "relay";

    public async Task RunAsync(BenchContext context)
    {
        Console.Error.WriteLine($"relay ceiling ({context.Options.Count} mails over {context.Options.Connections} connections)...");
        context.Results.RelayCeiling = await RelayCeiling.RunAsync(context.Sink, context.Options.Connections, context.Options.Count);
    }

    public void Report(BenchContext context, ReportTable table)
    {
        if (context.Results.RelayCeiling is { } ceiling)
            table.Row($"relay ceiling: MailKit, {context.Options.Connections} connections", $"{ceiling:0} mail/s");
    }
}
