using System.Globalization;

namespace Notifications.Bench;

public sealed record BenchOptions(int Count, int Clients, int RelayDelayMs, string? Out, IReadOnlySet<string> Stages,
    int Connections = PipelineRun.Connections, int WarmUpSeconds = 30, int MemoryCount = 100_000, int LogMessages = 1_000_000)
{
    /// <summary>Deliveries handled at once: at least as many as there are SMTP connections to keep busy (16 as shipped).</summary>
    public int Concurrency => Math.Max(PipelineRun.Concurrency, Connections);

    /// <summary>At least the shipped 64, and twice the concurrency, so no handler waits for a delivery.</summary>
    public int Prefetch => Math.Max(PipelineRun.Prefetch, 2 * Concurrency);

    public static IReadOnlyList<string> AllStages => [.. BenchRunner.Stages.Select(s => s.Name)];

    public bool Runs(string stage) => Stages.Contains(stage);

    public static BenchOptions Parse(string[] args)
    {
        var options = new BenchOptions(20_000, 64, 0, null, new HashSet<string>(AllStages));
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            options = args[i] switch
            {
                "--count" => options with { Count = Number(args[i], Next(), min: 1) },
                "--clients" => options with { Clients = Number(args[i], Next(), min: 1) },
                "--large" => options with { Count = 100_000 },
                "--relay-delay-ms" => options with { RelayDelayMs = Number(args[i], Next(), min: 0) },
                "--connections" => options with { Connections = Math.Min(Number(args[i], Next(), min: 1), 64) },
                "--out" => options with { Out = Next() },
                "--warm-up-seconds" => options with { WarmUpSeconds = Number(args[i], Next(), min: 0) },
                "--memory-count" => options with { MemoryCount = Number(args[i], Next(), min: 10) },
                "--log-messages" => options with { LogMessages = Number(args[i], Next(), min: 20_000) },
                "--only" => options with { Stages = ParseStages(Next()) },
                _ => throw new ArgumentException($"unknown option {args[i]}; see README.md, Benchmark"),
            };
        }
        return options;
    }

    private static int Number(string option, string value, int min) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= min
            ? n
            : throw new ArgumentException($"{option} takes a whole number ≥ {min}, not '{value}'");

    // One stage or a few, to profile them apart: --only pipeline, --only broker,relay.
    private static HashSet<string> ParseStages(string list)
    {
        var stages = list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet();
        var unknown = stages.Except(AllStages).ToList();
        if (stages.Count == 0 || unknown.Count > 0)
            throw new ArgumentException($"--only takes {string.Join(", ", AllStages)} (comma-separated); not {string.Join(", ", unknown)}");
        return stages;
    }

    public static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Notifications.sln")))
                return dir.FullName;
        throw new InvalidOperationException("cannot find Notifications.sln above " + AppContext.BaseDirectory);
    }
}
