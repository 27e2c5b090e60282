using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Notifications.Core.Store;
using Notifications.Worker.Consuming;
using Notifications.Worker.Sending;
using Notifications.Worker.Claims;

namespace Notifications.Tests.Unit;

/// <summary>What depends on time, with time moved by the test instead of waited for.</summary>
public sealed class ClockTests
{
    [Fact]
    public void An_outage_hold_expires_after_Smtp_OutageHold_and_starts_again_after_a_success()
    {
        var clock = new FakeTimeProvider();
        var outage = new RelayOutage(clock, Options.Create(new SmtpOptions { OutageHold = TimeSpan.FromMinutes(10) }));

        Assert.False(outage.HoldExpired()); // the outage starts now
        clock.Advance(TimeSpan.FromMinutes(10));
        Assert.False(outage.HoldExpired());
        clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(outage.HoldExpired());

        outage.Ended();
        Assert.False(outage.HoldExpired());
        clock.Advance(TimeSpan.FromMinutes(5));
        Assert.False(outage.HoldExpired());
    }

    [Fact]
    public async Task A_send_keeps_its_claim_renewed_every_third_of_the_lease_until_it_ends()
    {
        var clock = new FakeTimeProvider();
        var claims = new CountingClaims();
        var guard = new SendGuard(claims, new SentLedger(), Options.Create(new StoreOptions { SendLease = TimeSpan.FromSeconds(30) }), clock,
            NullLogger<SendGuard>.Instance);

        using var stop = new CancellationTokenSource();
        var renewing = guard.RenewWhileSendingAsync(stop.Token);

        var renewal = guard.KeepClaim("job-1");
        for (var i = 1; i <= 6; i++) // a send that takes two leases
        {
            clock.Advance(TimeSpan.FromSeconds(10));
            await Eventually(() => claims.Renewals == i);
        }
        renewal.Dispose();
        clock.Advance(TimeSpan.FromMinutes(5));
        await stop.CancelAsync();
        await renewing;

        Assert.Equal(6, claims.Renewals);
        Assert.Equal(["job-1"], claims.RenewedJobs.Distinct());
    }

    [Fact]
    public void The_relay_pacer_halves_once_a_second_on_throttles_and_climbs_back_a_twentieth_of_its_ceiling_each_quiet_second()
    {
        var clock = new FakeTimeProvider();
        var pacer = new RelayPacer(Options.Create(new SmtpOptions { MaxPerSecond = 100 }), clock,
            Telemetry(), LocalRateBudget.Instance, NullLogger<RelayPacer>.Instance);

        Assert.Equal(100, pacer.CurrentRate);
        pacer.Throttled();
        Assert.Equal(50, pacer.CurrentRate);
        pacer.Throttled(); // the same burst's other replies: once a second at most
        Assert.Equal(50, pacer.CurrentRate);
        clock.Advance(TimeSpan.FromSeconds(1));
        pacer.Throttled();
        Assert.Equal(25, pacer.CurrentRate);
        clock.Advance(TimeSpan.FromMilliseconds(500));
        Assert.Equal(25, pacer.CurrentRate); // not a quiet second yet
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(30, pacer.CurrentRate); // + 100 / 20
        clock.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(80, pacer.CurrentRate);
        clock.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(100, pacer.CurrentRate); // never above Smtp:MaxPerSecond
    }

    [Fact]
    public async Task The_relay_pacer_spaces_sends_by_one_over_the_rate()
    {
        var clock = new FakeTimeProvider();
        var pacer = new RelayPacer(Options.Create(new SmtpOptions { MaxPerSecond = 10 }), clock,
            Telemetry(), LocalRateBudget.Instance, NullLogger<RelayPacer>.Instance);

        await pacer.WaitTurnAsync(CancellationToken.None); // the first goes at once
        var second = pacer.WaitTurnAsync(CancellationToken.None).AsTask();
        clock.Advance(TimeSpan.FromMilliseconds(99));
        Assert.False(second.IsCompleted);
        clock.Advance(TimeSpan.FromMilliseconds(1));
        await Eventually(() => second.IsCompleted);
    }

    [Fact]
    public void A_queue_depth_older_than_Api_MaxDepthAge_no_longer_counts_and_a_fresh_reading_counts_again()
    {
        var clock = new FakeTimeProvider();
        var depths = new Notifications.Api.Backpressure.QueueDepths(["email.send"], TimeSpan.FromSeconds(10), clock);
        Assert.Null(depths.Fresh(0)); // never read

        depths.Record(0, 500_000);
        Assert.Equal(500_000, depths.Fresh(0));
        clock.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(500_000, depths.Fresh(0));
        clock.Advance(TimeSpan.FromMilliseconds(1)); // the broker stopped answering the samples
        Assert.Null(depths.Fresh(0));
        Assert.Equal(500_000, depths.Last(0)); // the gauge still shows the last reading

        depths.Record(0, 12);
        Assert.Equal(12, depths.Fresh(0));
    }

    [Fact]
    public async Task A_send_window_of_3_lets_a_fourth_send_start_only_a_second_after_one_of_the_three_ended()
    {
        var clock = new FakeTimeProvider();
        var window = new SendWindow(3, clock, LocalRateBudget.Instance, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        var first = await window.EnterAsync(default);
        await window.EnterAsync(default);
        await window.EnterAsync(default);

        var fourth = window.EnterAsync(default).AsTask();
        clock.Advance(TimeSpan.FromSeconds(5)); // the three are still sending: nothing frees a permit
        Assert.False(fourth.IsCompleted);
        await first.DisposeAsync(); // the first send ended now
        clock.Advance(TimeSpan.FromMilliseconds(1_000));
        await Task.Delay(50);
        Assert.False(fourth.IsCompleted); // a second (and a few ms of grace) after it ended
        clock.Advance(TimeSpan.FromMilliseconds(5));
        await Eventually(() => fourth.IsCompleted);
    }

    private static Notifications.Core.Telemetry.NotificationsTelemetry Telemetry() =>
        new(new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>());

    private static async Task Eventually(Func<bool> condition)
    {
        for (var i = 0; i < 2_000 && !condition(); i++)
            await Task.Delay(5); // the renewal runs on the thread pool once the fake clock fires its timer
        Assert.True(condition());
    }

    private sealed class CountingClaims : ISendClaims
    {
        private readonly List<string> _renewed = [];

        public int Renewals
        {
            get
            {
                lock (_renewed)
                    return _renewed.Count;
            }
        }

        public IReadOnlyList<string> RenewedJobs
        {
            get
            {
                lock (_renewed)
                    return [.. _renewed];
            }
        }

        public Task<bool> RenewSendAsync(string jobId, CancellationToken cancellationToken)
        {
            lock (_renewed)
                _renewed.Add(jobId);
            return Task.FromResult(true);
        }

        public Task<SendClaim> TryStartSendAsync(string jobId, CancellationToken cancellationToken) => Task.FromResult(SendClaim.Acquired);

        public Task MarkSentAsync(string jobId, JobStatus sent, CancellationToken cancellationToken) => Task.CompletedTask;

        public Task ReleaseSendAsync(string jobId, CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
