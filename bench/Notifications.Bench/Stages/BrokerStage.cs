namespace Notifications.Bench;

/// <summary>The broker's ceiling: confirmed publishes to a quorum queue, and consuming them with manual acks.</summary>
public sealed class BrokerStage : IBenchStage
{
    public string Name => "broker";

    public async Task RunAsync(BenchContext context)
    {
        Console.Error.WriteLine($"broker ceiling ({context.Options.Count} messages)...");
        context.Results.BrokerCeiling = await BrokerCeiling.RunAsync(context.Broker, context.Prefix, context.Options.Count);
    }

    public void Report(BenchContext context, ReportTable table)
    {
        if (context.Results.BrokerCeiling is not { } ceiling)
            return;
        table.Row("broker ceiling: confirmed publish, quorum queue", $"{ceiling.Publish:0} msg/s");
        table.Row("broker ceiling: consume with manual ack", $"{ceiling.Consume:0} msg/s");
    }
}
