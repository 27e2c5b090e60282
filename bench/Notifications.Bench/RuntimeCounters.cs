using System.Diagnostics;
using System.Globalization;

namespace Notifications.Bench;

/// <summary>
/// A program's allocations and GC pause time, read from its Prometheus endpoint (the runtime's System.Runtime meter),
/// before and after a phase: bytes allocated per job and the share of the phase's wall time spent paused in GC.
/// </summary>
public sealed class RuntimeCounters(int port)
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(10) };
    private (double Allocated, double PauseSeconds, long At)? _start;

    public async Task StartAsync() => _start = await ReadAsync();

    /// <returns>null when the endpoint could not be read at the start or now.</returns>
    public async Task<GcFigures?> StopAsync(int jobs)
    {
        var end = await ReadAsync();
        if (_start is not { } start || end is not { } stop || jobs == 0)
            return null;
        return new GcFigures((stop.Allocated - start.Allocated) / jobs,
            (stop.PauseSeconds - start.PauseSeconds) / HttpLoad.Seconds(start.At, stop.At));
    }

    private async Task<(double Allocated, double PauseSeconds, long At)?> ReadAsync()
    {
        try
        {
            var text = await Http.GetStringAsync($"http://127.0.0.1:{port}/metrics");
            return (Value(text, "dotnet_gc_heap_total_allocated_bytes_total"), Value(text, "dotnet_gc_pause_time_seconds_total"),
                Stopwatch.GetTimestamp());
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or FormatException)
        {
            Console.Error.WriteLine($"bench: cannot read the runtime counters on port {port}: {ex.Message}");
            return null;
        }
    }

    private static double Value(string exposition, string name)
    {
        foreach (var line in exposition.AsSpan().EnumerateLines())
            if (line.StartsWith(name) && line.Length > name.Length && line[name.Length] is '{' or ' ')
                return double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
        throw new FormatException($"no {name} in the scrape");
    }
}

/// <param name="AllocatedBytesPerJob">bytes allocated by the program per job of the phase.</param>
/// <param name="GcPauseShare">the share (0–1) of the phase's wall time the program spent paused in GC.</param>
public sealed record GcFigures(double AllocatedBytesPerJob, double GcPauseShare);
