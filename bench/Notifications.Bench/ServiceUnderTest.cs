using System.Diagnostics;

namespace Notifications.Bench;

/// <summary>The real API or worker, Release build, as its own process.</summary>
public sealed class ServiceUnderTest : IDisposable
{
    private readonly Process _process;

    private ServiceUnderTest(Process process) => _process = process;

    public long WorkingSetBytes
    {
        get
        {
            _process.Refresh();
            return _process.WorkingSet64;
        }
    }

    public TimeSpan? CpuTime => CpuMeter.Of(_process);

    /// <summary>The API and worker of the bench's own build (bench/…/bin/Release/net10.0 → src/…/bin/Release/net10.0).</summary>
    public static string Configuration => Path.GetFileName(Path.GetDirectoryName(BuildFolder)!);

    private static string Framework => Path.GetFileName(BuildFolder);

    private static string BuildFolder => AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar);

    public static ServiceUnderTest Start(string root, string project, IReadOnlyDictionary<string, string> environment) =>
        Environment.GetEnvironmentVariable("BENCH_PUBLISHED") is { Length: > 0 } published
            ? StartDll(Path.Combine(published, project, project + ".dll"), project, [], environment)
            : Start(Path.Combine(root, "src", project), project, [], environment);

    /// <summary>A program of this repository in <paramref name="folder"/> (its Release build), with <paramref name="args"/>.</summary>
    public static ServiceUnderTest Start(string folder, string project, IEnumerable<string> args, IReadOnlyDictionary<string, string> environment)
    {
        var dll = Path.Combine(folder, "bin", Configuration, Framework, project + ".dll");
        return StartDll(dll, project, args, environment);
    }

    private static ServiceUnderTest StartDll(string dll, string project, IEnumerable<string> args, IReadOnlyDictionary<string, string> environment)
    {
        if (!File.Exists(dll))
            throw new FileNotFoundException($"build it first: dotnet build -c {Configuration} ({dll} is missing)");
        var start = new ProcessStartInfo("dotnet", [dll, .. args]) { WorkingDirectory = Path.GetDirectoryName(dll)!, RedirectStandardOutput = true };
        foreach (var (key, value) in environment)
            start.Environment[key] = value;
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is { } line && (line.Contains(" ERR]", StringComparison.Ordinal) || line.Contains(" FTL]", StringComparison.Ordinal)))
                Console.Error.WriteLine($"[{project}] {line}");
        };
        process.BeginOutputReadLine();
        return new ServiceUnderTest(process);
    }

    /// <summary>SIGSTOP: the process keeps its connections and deliveries but uses no CPU until <see cref="Thaw"/>.</summary>
    public void Freeze() => Signal("-STOP");

    public void Thaw() => Signal("-CONT");

    private void Signal(string signal)
    {
        using var kill = Process.Start("kill", [signal, _process.Id.ToString()]);
        kill.WaitForExit();
        if (kill.ExitCode != 0)
            throw new InvalidOperationException($"kill {signal} {_process.Id} failed with exit code {kill.ExitCode}");
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(5_000);
        }
        _process.Dispose();
    }
}
