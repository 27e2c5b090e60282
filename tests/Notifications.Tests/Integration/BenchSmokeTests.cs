using System.Diagnostics;
using System.Text.Json;
using Notifications.Tests.Infrastructure;

namespace Notifications.Tests.Integration;

/// <summary>
/// The benchmark with a tiny count, so it cannot rot between hand runs. Its figures are not looked at
/// (a Debug build on a busy CI machine); what must hold is that every job reaches the sink exactly once.
/// </summary>
public sealed class BenchSmokeTests
{
    [Fact]
    public async Task The_benchmark_runs_its_pipeline_and_peer_end_to_end_and_counts_every_mail_once()
    {
        var folder = ServiceProcess.BuildFolder("bench", "Notifications.Bench");
        var dll = Path.Combine(folder, "Notifications.Bench.dll");
        Assert.True(File.Exists(dll), $"{dll} is missing: build the solution (dotnet build Notifications.sln)");
        var output = Path.Combine(Path.GetTempPath(), $"bench-smoke-{Guid.NewGuid():N}.json");
        var start = new ProcessStartInfo("dotnet", [dll, "--count", "40", "--clients", "4", "--warm-up-seconds", "0", "--memory-count", "40", "--log-messages", "20000", "--only",
            "pipeline,fairpeer,memory,peer,dlq,throttle,priority,suppressions,webhooks,mixed,signing,console,messagelog", "--out", output])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = folder,
        };
        start.Environment["RABBITMQ_URI"] = (await BrokerEnvironment.UriAsync()).ToString();
        start.Environment["POSTGRES_URI"] = await PostgresEnvironment.ServerAsync();
        using var bench = Process.Start(start)!;
        var stdout = bench.StandardOutput.ReadToEndAsync();
        var stderr = bench.StandardError.ReadToEndAsync();
        using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        try
        {
            await bench.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            bench.Kill(entireProcessTree: true);
            Assert.Fail("the bench did not finish 40 jobs within 4 minutes: " + await stderr);
        }

        try
        {
            Assert.True(bench.ExitCode == 0, $"exit code {bench.ExitCode}: {await stderr}");
            Assert.Contains("| pipeline: every job at the sink exactly once | ok |", await stdout);
            using var figures = JsonDocument.Parse(await File.ReadAllTextAsync(output));
            var pipeline = figures.RootElement.GetProperty("pipeline");
            Assert.Equal(40, pipeline.GetProperty("Accepted").GetInt32());
            Assert.Equal(0, pipeline.GetProperty("Errors").GetInt32());
            Assert.True(figures.RootElement.GetProperty("massTransitPeerPerSecond").GetDouble() > 0);
            Assert.Equal("ok", figures.RootElement.GetProperty("fairPeer").GetProperty("ExactlyOnce").GetString());
            Assert.Equal("ok", figures.RootElement.GetProperty("memory").GetProperty("ExactlyOnce").GetString());
            Assert.Equal("ok", figures.RootElement.GetProperty("dlq")[0].GetProperty("ExactlyOnce").GetString());
            Assert.Equal("ok", figures.RootElement.GetProperty("throttledRelay").GetProperty("ExactlyOnce").GetString());
            Assert.Equal("ok", figures.RootElement.GetProperty("signing").GetProperty("ExactlyOnce").GetString());
            var log = figures.RootElement.GetProperty("messageLog");
            Assert.Equal("ok", log.GetProperty("Sqlite").GetProperty("ExactlyOnce").GetString());
            Assert.Equal("ok", log.GetProperty("Postgres").GetProperty("ExactlyOnce").GetString());
            Assert.Equal(2, log.GetProperty("Stores").GetArrayLength());
        }
        finally
        {
            File.Delete(output);
        }
    }
}
