using System.Diagnostics;
using Notifications.Core.Broker;
using Notifications.Core.Contract;
using Notifications.Core.Topology;
using RabbitMQ.Client;

namespace Notifications.Bench;

/// <summary>
/// The operators' tool at scale: <paramref name="count"/> dead letters in <c>email.dead</c>, then the real <c>dlq</c>
/// (its own process, the bench's build) exports them and replays them all; every one must end in <c>email.send</c>.
/// </summary>
public sealed class DlqRun(string root, Uri broker, string prefix, int count)
{
    public async Task<DlqResult> RunAsync()
    {
        var names = new TopologyNames(prefix);
        var factory = new ConnectionFactory { Uri = broker, ClientProvidedName = "bench-dlq" };
        await using var connection = await factory.CreateConnectionAsync();
        await new TopologyDeclarer(names, Microsoft.Extensions.Logging.Abstractions.NullLogger<TopologyDeclarer>.Instance)
            .DeclareAsync(connection, CancellationToken.None);
        await FillAsync(connection, names);

        var export = Path.Combine(Path.GetTempPath(), prefix + "dead.jsonl");
        try
        {
            var (exportSeconds, exportPeak) = await RunDlqAsync("export", "--out", export);
            var exported = File.ReadLines(export).Count();
            var (replaySeconds, replayPeak) = await RunDlqAsync("replay", "--all");
            await using var channel = await connection.CreateChannelAsync();
            var inWork = (await channel.QueueDeclarePassiveAsync(names.SendQueue)).MessageCount;
            var stillDead = (await channel.QueueDeclarePassiveAsync(names.DeadQueue)).MessageCount;
            var verdict = exported == count && inWork == count && stillDead == 0
                ? "ok"
                : $"exported {exported}, in {names.SendQueue} {inWork}, still dead {stillDead} of {count}";
            var publishAlone = await PublishAloneSecondsAsync(connection);
            return new DlqResult(count, count / exportSeconds, count / replaySeconds, verdict, exportPeak, replayPeak, count / publishAlone);
        }
        finally
        {
            File.Delete(export);
            Cleanup.DeleteStore(_store);
        }
    }

    private async Task FillAsync(IConnection connection, TopologyNames names)
    {
        await using var publisher = await connection.CreateChannelAsync(ConfirmWindow.ChannelOptions(BrokerCeiling.InFlight));
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, BrokerCeiling.InFlight).Select(async _ =>
        {
            int n;
            while ((n = Interlocked.Increment(ref next)) < count)
            {
                var job = SampleJob.Job($"dead-{n}");
                await publisher.BasicPublishAsync(names.Exchange, TopologyNames.DeadKey, mandatory: true, DeadProperties(job), JobCodec.Encode(job));
            }
        }));
    }

    /// <summary>
    /// What a replay does beyond an export's reading, timed alone: <c>count</c> confirmed publishes of the same messages to a
    /// quorum queue, on one channel with the tool's window of 1,024 (no process start, no events, no statuses). A replay
    /// overlaps them with its reading, so its time cannot go below the export's start-up plus these.
    /// </summary>
    private async Task<double> PublishAloneSecondsAsync(IConnection connection)
    {
        var queue = prefix + "dlq.publish-alone";
        await using (var setup = await connection.CreateChannelAsync())
            await setup.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false,
                arguments: new Dictionary<string, object?> { ["x-queue-type"] = "quorum" });
        try
        {
            const int window = 1_024;
            await using var publisher = await connection.CreateChannelAsync(ConfirmWindow.ChannelOptions(window));
            var next = -1;
            var clock = Stopwatch.StartNew();
            await Task.WhenAll(Enumerable.Range(0, window).Select(async _ =>
            {
                int n;
                while ((n = Interlocked.Increment(ref next)) < count)
                {
                    var job = SampleJob.Job($"dead-{n}");
                    await publisher.BasicPublishAsync("", queue, mandatory: true, DeadProperties(job), JobCodec.Encode(job));
                }
            }));
            return clock.Elapsed.TotalSeconds;
        }
        finally
        {
            await using var cleanup = await connection.CreateChannelAsync();
            await cleanup.QueueDeleteAsync(queue, ifUnused: false, ifEmpty: false);
        }
    }

    private static BasicProperties DeadProperties(EmailJob job)
    {
        var properties = JobProperties.ForNewJob(job);
        properties.Headers![JobHeaders.FailureKind] = "transient";
        properties.Headers[JobHeaders.Attempts] = 4;
        properties.Headers[JobHeaders.LastError] = "SMTP 451 4.3.0 try again later";
        return properties;
    }

    // A job store of the run's own, as every other stage has: the default is the machine's shared file, which each run grew by
    // 105,000 statuses (7.6 million history rows, 575 MB here after a few weeks, the replay's status writes 3-8x slower).
    private readonly string _store = Path.Combine(Path.GetTempPath(), prefix + "dlq.db");

    /// <returns>the seconds it took, process start included, and its peak working set (VmHWM).</returns>
    private Task<(double Seconds, long PeakBytes)> RunDlqAsync(params string[] arguments) =>
        RunDlqAsync(new Dictionary<string, string> { ["Store__Path"] = _store }, arguments);

    /// <param name="environment">settings beyond the broker's (the console's stage points it at a job store).</param>
    public async Task<(double Seconds, long PeakBytes)> RunDlqAsync(IReadOnlyDictionary<string, string> environment, params string[] arguments)
    {
        var dll = Path.Combine(root, "src", "Notifications.Dlq", "bin", ServiceUnderTest.Configuration,
            Path.GetFileName(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)), "dlq.dll");
        var start = new ProcessStartInfo("dotnet", [dll, .. arguments])
        {
            WorkingDirectory = Path.GetDirectoryName(dll)!, RedirectStandardOutput = true, RedirectStandardError = true,
        };
        start.Environment["RabbitMq__Uri"] = broker.ToString();
        start.Environment["RabbitMq__Prefix"] = prefix;
        start.Environment["Serilog__MinimumLevel__Default"] = "Warning";
        foreach (var (key, value) in environment)
            start.Environment[key] = value;
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        var peak = 0L;
        var exited = process.WaitForExitAsync();
        while (!exited.IsCompleted)
        {
            peak = Math.Max(peak, PeakOf(process.Id));
            await Task.WhenAny(exited, Task.Delay(50));
        }
        var seconds = clock.Elapsed.TotalSeconds;
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"dlq {string.Join(' ', arguments)} exited {process.ExitCode}: {await error}");
        await output;
        return (seconds, peak);
    }

    /// <summary>The process's peak resident set so far (Linux: VmHWM in /proc), 0 once it is gone.</summary>
    private static long PeakOf(int pid)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                    return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
        }
        catch (IOException)
        {
            // It exited between two looks.
        }
        return 0;
    }
}

/// <param name="ExportPerSecond">dead letters a second for <c>dlq export --out</c>, process start included.</param>
/// <param name="ReplayPerSecond">dead letters a second for <c>dlq replay --all</c>, process start included.</param>
/// <param name="ExportPeakBytes">the export's peak working set; <paramref name="ReplayPeakBytes"/> the replay's.</param>
/// <param name="PublishAlonePerSecond">the replay's publishes timed alone (see <c>DlqRun.PublishAloneSecondsAsync</c>).</param>
public sealed record DlqResult(int Count, double ExportPerSecond, double ReplayPerSecond, string ExactlyOnce, long ExportPeakBytes, long ReplayPeakBytes,
    double PublishAlonePerSecond);
