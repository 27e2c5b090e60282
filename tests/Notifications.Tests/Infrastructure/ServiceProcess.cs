using System.Diagnostics;
using System.Text;

namespace Notifications.Tests.Infrastructure;

/// <summary>The real worker or API as its own process: a test can kill -9 it, send it SIGTERM, or read its metrics alone.</summary>
public sealed class ServiceProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private ServiceProcess(Process process)
    {
        _process = process;
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public string Output
    {
        get
        {
            lock (_output)
                return _output.ToString();
        }
    }

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    public static ServiceProcess StartWorker(IReadOnlyDictionary<string, string?> settings) => Start("Notifications.Worker", settings);

    public static ServiceProcess StartApi(IReadOnlyDictionary<string, string?> settings) => Start("Notifications.Api", settings);

    private static ServiceProcess Start(string project, IReadOnlyDictionary<string, string?> settings)
    {
        var folder = BuildFolder(project);
        var start = new ProcessStartInfo("dotnet", [Path.Combine(folder, project + ".dll")])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = folder,
        };
        foreach (var (key, value) in settings)
            start.Environment[key.Replace(":", "__")] = value;
        start.Environment["Serilog__MinimumLevel__Default"] = "Information";
        return new ServiceProcess(Process.Start(start)!);
    }

    /// <summary>
    /// The program's own build output (tests/…/bin/Debug/net10.0 → src/Notifications.Worker/bin/Debug/net10.0):
    /// the copy beside the tests resolves its libraries from the test's ASP.NET framework and cannot run alone.
    /// </summary>
    private static string BuildFolder(string project) => BuildFolder("src", project);

    /// <summary>The build output of the project in <paramref name="folder"/>/<paramref name="project"/>, of the tests' configuration.</summary>
    public static string BuildFolder(string folder, string project)
    {
        var testBin = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var (framework, configuration) = (testBin.Name, testBin.Parent!.Name);
        var root = testBin;
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Notifications.sln")))
            root = root.Parent;
        if (root is null)
            throw new InvalidOperationException("cannot find Notifications.sln above " + AppContext.BaseDirectory);
        return Path.Combine(root.FullName, folder, project, "bin", configuration, framework);
    }

    /// <summary>kill -9: no shutdown code runs.</summary>
    public void Kill() => _process.Kill(entireProcessTree: true);

    /// <summary>What an orchestrator sends to stop a container.</summary>
    public void Terminate()
    {
        using var kill = Process.Start("kill", ["-TERM", _process.Id.ToString()]);
        kill.WaitForExit();
        if (kill.ExitCode != 0)
            throw new InvalidOperationException($"kill -TERM {_process.Id} failed with exit code {kill.ExitCode}");
    }

    public Task WaitForExitAsync(TimeSpan timeout) => _process.WaitForExitAsync(new CancellationTokenSource(timeout).Token);

    public void Dispose()
    {
        if (!_process.HasExited)
            _process.Kill(entireProcessTree: true);
        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null)
            return;
        lock (_output)
            _output.AppendLine(line);
    }
}
