using System.Globalization;

namespace Notifications.Dlq.Cli;

/// <summary>
/// One line on the terminal that a long replay, export or reindex rewrites in place ("replayed 12,345 (2,104/s)"), at
/// most four times a second, and clears when done. Nothing at all when standard error is not a terminal: a redirected
/// run's output stays what a script reads.
/// </summary>
public sealed class ProgressLine(TextWriter error, bool enabled, string what, TimeProvider clock) : IDisposable
{
    private static readonly TimeSpan Every = TimeSpan.FromMilliseconds(250);
    private readonly long _started = clock.GetTimestamp();
    private readonly Lock _lock = new();
    private long _count;
    private long _shown;
    private int _width;

    public void Add(long done = 1) => Show(Interlocked.Add(ref _count, done));

    /// <summary>For a caller that counts itself: the total so far.</summary>
    public void Total(long total)
    {
        Interlocked.Exchange(ref _count, total);
        Show(total);
    }

    private void Show(long count)
    {
        if (!enabled)
            return;
        var now = clock.GetTimestamp();
        if (clock.GetElapsedTime(Interlocked.Read(ref _shown), now) < Every)
            return;
        lock (_lock)
        {
            if (clock.GetElapsedTime(_shown, now) < Every)
                return;
            _shown = now;
            var seconds = clock.GetElapsedTime(_started, now).TotalSeconds;
            var line = string.Create(CultureInfo.InvariantCulture, $"{what} {count:N0} ({(seconds > 0 ? count / seconds : 0):N0}/s)");
            error.Write("\r" + line.PadRight(_width));
            _width = Math.Max(_width, line.Length);
            error.Flush();
        }
    }

    public long Count => Interlocked.Read(ref _count);

    public void Dispose()
    {
        if (!enabled || _width == 0)
            return;
        lock (_lock)
        {
            error.Write("\r" + new string(' ', _width) + "\r");
            error.Flush();
        }
    }
}
