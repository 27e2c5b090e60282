using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Notifications.Core.Store;
using Notifications.Core.Telemetry;
using Notifications.Tests.Infrastructure;
using Notifications.Worker.Settling;

namespace Notifications.Tests.Unit;

/// <summary>The settling stage's announcer alone: its steps in order, retried on a fake clock while held, best effort where allowed.</summary>
public sealed class AnnouncerTests
{
    private static (Announcer Announcer, FakeTimeProvider Clock) Build(params IAnnouncementStep[] steps)
    {
        var clock = new FakeTimeProvider();
        return (SettlingServices.Build(clock, steps).GetRequiredService<Announcer>(), clock);
    }

    private static readonly Announcement Sent = new("job-1", "tests", "sent");

    [Fact]
    public async Task A_step_that_fails_is_tried_again_after_half_a_second_then_a_second_while_held_and_the_next_runs_after_it()
    {
        var order = new List<string>();
        var flaky = new Step("event", true, order, failures: 2);
        var (announcer, clock) = Build(flaky, new Step("webhook", true, order));
        flaky.Clock = clock;

        var run = announcer.AnnounceAsync(Sent, () => true, CancellationToken.None);
        // Time moves only here, 10 ms at a time, until the announcement is done (never past a deadline of real time).
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!run.IsCompleted && DateTime.UtcNow < deadline)
        {
            clock.Advance(TimeSpan.FromMilliseconds(10));
            await Task.Delay(1);
        }

        Assert.True(await run.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.Equal(["event", "event", "event", "webhook"], order);
        Assert.InRange(flaky.TriedAt[1] - flaky.TriedAt[0], TimeSpan.FromMilliseconds(500), TimeSpan.FromMilliseconds(510));
        Assert.InRange(flaky.TriedAt[2] - flaky.TriedAt[1], TimeSpan.FromMilliseconds(1000), TimeSpan.FromMilliseconds(1010));
    }

    [Fact]
    public async Task Once_the_delivery_is_no_longer_held_a_failed_step_ends_the_announcement_and_what_follows_does_not_run()
    {
        var order = new List<string>();
        var (announcer, _) = Build(new Step("event", true, order, failures: int.MaxValue), new Step("webhook", true, order));

        Assert.False(await announcer.AnnounceAsync(Sent, () => false, CancellationToken.None));
        Assert.Equal(["event"], order);
    }

    [Fact]
    public async Task A_best_effort_step_whose_store_is_away_costs_only_itself()
    {
        var order = new List<string>();
        var (announcer, _) = Build(new Step("status", false, order, failures: 1, failure: () => new TimeoutException("store away")),
            new Step("webhook", true, order));

        Assert.True(await announcer.AnnounceAsync(Sent, () => true, CancellationToken.None));
        Assert.Equal(["status", "webhook"], order);
    }

    [Fact]
    public async Task Stopping_ends_the_pause_between_tries()
    {
        using var stopping = new CancellationTokenSource();
        var flaky = new Step("event", true, [], failures: int.MaxValue);
        var (announcer, _) = Build(flaky);

        var run = announcer.AnnounceAsync(Sent, () => true, stopping.Token);
        await Eventually.TrueAsync(() => flaky.Tries == 1, "the first try");
        await stopping.CancelAsync();

        Assert.False(await run.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(1, flaky.Tries);
    }

    private sealed class Step(string name, bool mustConfirm, List<string> order, int failures = 0, Func<Exception>? failure = null,
        TimeProvider? clock = null) : IAnnouncementStep
    {
        public int Tries;
        public TimeProvider? Clock = clock;
        public List<DateTimeOffset> TriedAt { get; } = [];

        public string Name(Announcement announcement) => name;

        public bool MustConfirm => mustConfirm;

        public Task AnnounceAsync(Announcement announcement, CancellationToken cancellationToken)
        {
            lock (order)
            {
                order.Add(name);
                if (Clock is not null)
                    TriedAt.Add(Clock.GetUtcNow());
            }
            return Interlocked.Increment(ref Tries) <= failures
                ? Task.FromException(failure?.Invoke() ?? new Core.Broker.PublishFailedException("no confirm"))
                : Task.CompletedTask;
        }
    }
}
