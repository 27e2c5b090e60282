namespace Notifications.Bench;

/// <summary>One stage of the benchmark: it measures one thing, keeps its figures in the results, and says them as table rows.</summary>
public interface IBenchStage
{
    /// <summary>Its name for <c>--only</c>.</summary>
    string Name { get; }

    Task RunAsync(BenchContext context);

    /// <summary>Its rows in the results table (only called when it ran).</summary>
    void Report(BenchContext context, ReportTable table);
}
