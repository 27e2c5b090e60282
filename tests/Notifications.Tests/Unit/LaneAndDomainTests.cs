using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Notifications.Core.Topology;
using Notifications.Worker.Consuming;
using Notifications.Worker.Sending;

namespace Notifications.Tests.Unit;

public sealed class LaneAndDomainTests
{
    [Fact]
    public async Task A_freed_slot_goes_to_a_waiting_high_job_before_normal_ones_that_waited_longer()
    {
        var gate = new LaneGate(1);
        await gate.EnterAsync(Lane.Normal, default);
        var normal = gate.EnterAsync(Lane.Normal, default).AsTask();
        var high = gate.EnterAsync(Lane.High, default).AsTask();

        gate.Leave();
        await high;
        Assert.False(normal.IsCompleted);
        gate.Leave();
        await normal;
    }

    [Fact]
    public async Task A_cancelled_wait_gives_up_its_place_and_takes_no_slot()
    {
        var gate = new LaneGate(1);
        await gate.EnterAsync(Lane.Normal, default);
        using var cancel = new CancellationTokenSource();
        var waiting = gate.EnterAsync(Lane.High, cancel.Token).AsTask();

        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        gate.Leave();
        await gate.EnterAsync(Lane.Normal, default); // the slot came back free
        Assert.Equal(0, gate.Waiting(Lane.High));
    }

    [Theory]
    [InlineData("alice@Example.COM", "example.com")]
    [InlineData("Alice <alice@Gmail.com>", "gmail.com")]
    [InlineData("\"a@b\" <c@d.org>", "d.org")]
    [InlineData("no-at-sign", null)]
    public void The_domain_of_a_recipient_is_lower_case_and_taken_from_the_address(string recipient, string? domain) =>
        Assert.Equal(domain, DomainPacer.DomainOf(recipient));

    [Fact]
    public void The_throttle_metrics_domain_tag_is_a_configured_domain_or_other_never_a_recipients_own()
    {
        var pacer = new DomainPacer(Options.Create(new SmtpOptions
        {
            DomainLimits = new(StringComparer.OrdinalIgnoreCase) { ["gmail.com"] = 20 },
        }), new FakeTimeProvider(), new(new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>()));

        Assert.Equal("gmail.com", pacer.MetricDomain(["Ann <ann@GMail.com>"]));
        Assert.Equal("other", pacer.MetricDomain(["x@" + Guid.NewGuid().ToString("N") + ".example"]));
        Assert.Equal("other", pacer.MetricDomain([]));
    }

    [Fact]
    public async Task A_job_takes_a_turn_from_every_limited_domain_and_waits_for_the_latest()
    {
        var clock = new FakeTimeProvider();
        var pacer = new DomainPacer(Options.Create(new SmtpOptions
        {
            DomainLimits = new(StringComparer.OrdinalIgnoreCase) { ["slow.test"] = 2, ["slower.test"] = 1 },
        }), clock, new(new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>()));

        var first = await pacer.WaitTurnAsync(["a@slow.test", "b@slower.test"], default); // both domains' first turns: at once
        await first.DisposeAsync(); // its send ended at once
        var second = pacer.WaitTurnAsync(["c@SLOW.test", "d@slower.test", "e@fast.test"], default).AsTask();
        var unlimited = pacer.WaitTurnAsync(["f@fast.test"], default).AsTask();

        Assert.True(unlimited.IsCompleted);
        clock.Advance(TimeSpan.FromMilliseconds(500)); // slow.test's turn, not slower.test's
        Assert.False(second.IsCompleted);
        clock.Advance(TimeSpan.FromMilliseconds(500)); // slower.test's turn; its one permit is free 1.005 s after the first send ended
        await Task.Delay(50);
        Assert.False(second.IsCompleted);
        clock.Advance(TimeSpan.FromMilliseconds(5));
        for (var i = 0; i < 1_000 && !second.IsCompleted; i++)
            await Task.Delay(5);
        Assert.True(second.IsCompleted);
    }
}
