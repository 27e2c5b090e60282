namespace Notifications.Bench;

/// <summary>SMTP submission beside the HTTP endpoint: messages a second and CPU per message, 5 KB and 1 MB, 16 connections.</summary>
public sealed class SubmissionStage : IBenchStage
{
    public string Name => "submission";

    public async Task RunAsync(BenchContext context)
    {
        var small = Math.Clamp(context.Options.Count / 4, 500, 20_000);
        var large = Math.Clamp(context.Options.Count / 100, 64, 400);
        Console.Error.WriteLine($"SMTP submission beside HTTP ({small} messages of 5 KB and {large} of 1 MB each way, {SubmissionRun.Connections} connections)...");
        context.Results.Submission = await SubmissionRun.RunAsync(context, small, large);
    }

    public void Report(BenchContext context, ReportTable table)
    {
        if (context.Results.Submission is not { } figures)
            return;
        foreach (var size in figures.Select(f => f.Size).Distinct())
        {
            var http = figures.Single(f => f.Size == size && f.Via == "http");
            var smtp = figures.Single(f => f.Size == size && f.Via == "smtp");
            table.Row($"submission, {size} messages over {SubmissionRun.Connections} connections (API alone, each answered after the broker's confirm)",
                $"SMTP {smtp.PerSecond:0.0}/s, API {smtp.ApiCpuMs:0.00} + broker {smtp.BrokerCpuMs:0.00} CPU ms a message · " +
                $"HTTP {http.PerSecond:0.0}/s, API {http.ApiCpuMs:0.00} + broker {http.BrokerCpuMs:0.00} CPU ms · SMTP/HTTP {smtp.PerSecond / http.PerSecond:0.00}×" +
                (smtp.Failed + http.Failed > 0 ? $" · refused {smtp.Failed} SMTP, {http.Failed} HTTP" : ""));
        }
    }
}
