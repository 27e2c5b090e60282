using Microsoft.Extensions.Time.Testing;
using Notifications.Dlq.Cli;

namespace Notifications.Tests.Unit;

/// <summary>The dlq tool's progress line: rewritten in place at most four times a second on a terminal, cleared at the end, absent otherwise.</summary>
public sealed class ProgressLineTests
{
    [Fact]
    public void On_a_terminal_it_rewrites_one_line_four_times_a_second_at_most_and_clears_it_at_the_end()
    {
        var clock = new FakeTimeProvider();
        var error = new StringWriter();
        using (var progress = new ProgressLine(error, enabled: true, "replayed", clock))
        {
            clock.Advance(TimeSpan.FromSeconds(1));
            for (var i = 0; i < 1_000; i++)
                progress.Add(); // one second in: shown once, not a thousand times
            clock.Advance(TimeSpan.FromMilliseconds(100));
            progress.Add();
            clock.Advance(TimeSpan.FromMilliseconds(200));
            progress.Add();
        }

        var frames = error.ToString().Split('\r', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("replayed 1 (1/s)", frames[0]);
        Assert.StartsWith("replayed 1,002 (", frames[1]);
        Assert.Equal("", frames[^1].Trim()); // cleared
        Assert.Equal(3, frames.Length);
    }

    [Fact]
    public void Redirected_it_writes_nothing()
    {
        var error = new StringWriter();
        using (var progress = new ProgressLine(error, enabled: false, "exported", new FakeTimeProvider()))
            for (var i = 0; i < 10; i++)
                progress.Add();

        Assert.Equal("", error.ToString());
    }
}
