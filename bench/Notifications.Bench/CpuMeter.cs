using System.Diagnostics;

namespace Notifications.Bench;

/// <summary>
/// CPU time spent by each part of a stage (API, worker, this process, the broker node), so a rate on a
/// 2-core machine can be read as CPU milliseconds per job: who costs what, and what is left for the rest.
/// </summary>
public sealed class CpuMeter
{
    private readonly Dictionary<string, Func<TimeSpan?>> _parts = [];
    private Dictionary<string, TimeSpan?> _start = [];

    public CpuMeter Add(string part, Func<TimeSpan?> cpuTime)
    {
        _parts[part] = cpuTime;
        return this;
    }

    public void Start() => _start = _parts.ToDictionary(p => p.Key, p => p.Value());

    /// <summary>CPU milliseconds per job of each part since <see cref="Start"/>; a part that could not be read is left out.</summary>
    public Dictionary<string, double> PerJobMs(int jobs) => _parts
        .Select(p => (p.Key, Start: _start.GetValueOrDefault(p.Key), End: p.Value()))
        .Where(p => p.Start is not null && p.End is not null)
        .ToDictionary(p => p.Key, p => Math.Round((p.End!.Value - p.Start!.Value).TotalMilliseconds / jobs, 3));

    public static TimeSpan? Of(Process process)
    {
        try
        {
            process.Refresh();
            return process.TotalProcessorTime;
        }
        catch (Exception ex) when (ex is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            return null; // exited
        }
    }

    public static TimeSpan? Self() => Of(Process.GetCurrentProcess());

    /// <summary>The broker's Erlang VM(s) on this machine, when it runs here (not in a VM or elsewhere): every beam.smp summed.</summary>
    public static TimeSpan? Broker()
    {
        var beams = Process.GetProcessesByName("beam.smp");
        if (beams.Length == 0)
            return null;
        var total = TimeSpan.Zero;
        foreach (var beam in beams)
        {
            using (beam)
                total += Of(beam) ?? TimeSpan.Zero;
        }
        return total;
    }
}
