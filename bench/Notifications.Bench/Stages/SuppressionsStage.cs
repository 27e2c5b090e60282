namespace Notifications.Bench;

/// <summary>The suppression check per job, against each store.</summary>
public sealed class SuppressionsStage : IBenchStage
{
    public string Name => "suppressions";

    public async Task RunAsync(BenchContext context)
    {
        Console.Error.WriteLine($"suppression check ({context.Options.Count} lookups against {SuppressionLookupRun.ListSize} entries)...");
        context.Results.SuppressionLookups = await SuppressionLookupRun.RunAsync(context.Options.Count);
    }

    public void Report(BenchContext context, ReportTable table)
    {
        foreach (var lookup in context.Results.SuppressionLookups ?? [])
            table.Row($"suppression check, {lookup.Store}: one lookup per job ({lookup.RecipientsPerJob} recipients, list of {lookup.ListSize:N0}, 16 at a time)",
                $"{lookup.LookupsPerSecond:0} jobs/s, {1_000 / lookup.LookupsPerSecond * 16:0.00} ms each, {lookup.CpuMsPerJob:0.000} CPU ms per job (client side); found right: {lookup.Correct}");
    }
}
