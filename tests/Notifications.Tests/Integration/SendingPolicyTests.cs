using System.Net.Http.Json;
using System.Text.Json;
using Notifications.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Notifications.Tests.Integration;

/// <summary>Pacing to the relay's limits, and "slow down" taken as backpressure rather than failure.</summary>
public sealed class SendingPolicyTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Smtp_MaxPerSecond_50_sends_500_jobs_in_about_ten_seconds_never_more_than_50_in_any_second_at_the_relay()
    {
        await using var pipeline = await Pipeline.StartAsync(worker: false, shippedDefaults: true, configure: s => s["Smtp:MaxPerSecond"] = "50");
        var ids = new List<string>();
        for (var i = 0; i < 500; i++)
            ids.Add(await Jobs.PostAndGetIdAsync(pipeline.Http, Jobs.Valid($"paced {i}")));

        await pipeline.StartWorkerAsync();
        await Eventually.TrueAsync(() => pipeline.Relay.Accepted.Count >= 500, "every mail", TimeSpan.FromSeconds(60));

        var times = pipeline.Relay.Attempts.Order().ToList();
        var span = times[^1] - times[0];
        var busiest = times.Select(t => times.Count(u => u >= t && u < t.AddSeconds(1))).Max();
        output.WriteLine($"500 mails in {span.TotalSeconds:0.0} s; busiest 1-second window: {busiest}");
        Assert.Equal(ids.Order(), pipeline.Relay.AcceptedJobIds.Order());
        Assert.InRange(busiest, 1, 50);
        Assert.InRange(span.TotalSeconds, 9, 13);
    }

    [Fact]
    public async Task Smtp_MaxPerSecond_20_never_lets_the_relay_see_more_than_20_mails_in_any_one_second_window_over_200_mails()
    {
        // The relay's own receive times decide, not the pacer's counters; every window, not only whole seconds.
        await using var pipeline = await Pipeline.StartAsync(worker: false, shippedDefaults: true, configure: s => s["Smtp:MaxPerSecond"] = "20");
        for (var i = 0; i < 200; i++)
            await Jobs.PostAndGetIdAsync(pipeline.Http, Jobs.Valid($"window {i}"));

        await pipeline.StartWorkerAsync();
        await Eventually.TrueAsync(() => pipeline.Relay.Accepted.Count >= 200, "every mail", TimeSpan.FromSeconds(60));

        var times = pipeline.Relay.Accepted.Select(m => m.At).Order().ToList();
        var busiest = times.Select(t => times.Count(u => u >= t && u < t.AddSeconds(1))).Max();
        output.WriteLine($"200 mails in {(times[^1] - times[0]).TotalSeconds:0.0} s; busiest 1-second window at the relay: {busiest}");
        Assert.InRange(busiest, 1, 20);
    }

    [Fact]
    public async Task Two_workers_sharing_redis_keep_Smtp_MaxPerSecond_50_together()
    {
        var redis = await RedisEnvironment.ConnectionAsync();
        await using var pipeline = await Pipeline.StartAsync(worker: false, shippedDefaults: true, configure: s =>
        {
            s["Smtp:MaxPerSecond"] = "50";
            s["Store:Kind"] = "Redis";
            s["Store:Redis"] = redis.Configuration;
        });
        var ids = new List<string>();
        for (var i = 0; i < 500; i++)
            ids.Add(await Jobs.PostAndGetIdAsync(pipeline.Http, Jobs.Valid($"shared pace {i}")));

        await pipeline.StartWorkerAsync();
        await pipeline.StartAnotherWorkerAsync();
        await Eventually.TrueAsync(() => pipeline.Relay.Accepted.Count >= 500, "every mail", TimeSpan.FromSeconds(60));

        var times = pipeline.Relay.Attempts.Order().ToList();
        var span = times[^1] - times[0];
        var busiest = times.Select(t => times.Count(u => u >= t && u < t.AddSeconds(1))).Max();
        output.WriteLine($"two workers: 500 mails in {span.TotalSeconds:0.0} s; busiest 1-second window: {busiest}");
        Assert.Equal(ids.Order(), pipeline.Relay.AcceptedJobIds.Order());
        Assert.InRange(busiest, 1, 50);
        Assert.InRange(span.TotalSeconds, 9, 13);
    }

    [Fact]
    public async Task A_relay_that_throttles_every_third_mail_for_15_s_gets_every_job_once_and_costs_no_attempt()
    {
        await using var pipeline = await Pipeline.StartAsync(shippedDefaults: true);
        var mails = 0;
        var throttling = true;
        pipeline.Relay.DataRule = () => Volatile.Read(ref throttling) && Interlocked.Increment(ref mails) % 3 == 0 ? TestRelay.Throttling() : null;

        var ids = new List<string>();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (var i = 0; clock.Elapsed < TimeSpan.FromSeconds(15); i++)
        {
            ids.Add(await Jobs.PostAndGetIdAsync(pipeline.Http, Jobs.Valid($"throttled {i}")));
            await Task.Delay(50); // the pace of the scenario: 20 jobs a second
        }
        Volatile.Write(ref throttling, false);

        await Eventually.TrueAsync(() => pipeline.Relay.AcceptedJobIds.Distinct().Count() >= ids.Count, "every job", TimeSpan.FromSeconds(60));
        var attempts = new List<int>();
        foreach (var id in ids)
        {
            var status = await Eventually.ReturnsAsync(async () => await pipeline.Http.GetFromJsonAsync<JsonElement>($"/api/emails/{id}"),
                s => s.GetProperty("status").GetString() == "sent", $"job {id} to be sent");
            attempts.Add(status.GetProperty("attempt").GetInt32());
        }
        var throttled = pipeline.Relay.Attempts.Count - pipeline.Relay.Accepted.Count;
        output.WriteLine($"{ids.Count} jobs, {throttled} throttling replies, attempts per job: {string.Join(",", attempts.Distinct())}");
        Assert.True(throttled > 0, "the relay never throttled: the test proves nothing");
        Assert.Equal(ids.Order(), pipeline.Relay.AcceptedJobIds.Order()); // each once
        Assert.All(attempts, a => Assert.Equal(1, a)); // no attempt spent on a throttle
        Assert.Equal(0u, await pipeline.Queues.CountAsync(pipeline.Names.DeadQueue));
    }

    [Fact]
    public async Task DomainLimits_slow_test_2_holds_20_slow_jobs_to_2_a_second_while_200_fast_ones_go_past_them()
    {
        await using var pipeline = await Pipeline.StartAsync(worker: false, shippedDefaults: true, configure: s => s["Smtp:DomainLimits:slow.test"] = "2");
        var slow = new List<string>();
        var fast = new List<string>();
        for (var i = 0; i < 20; i++)
            slow.Add(await Jobs.PostAndGetIdAsync(pipeline.Http, new { to = new[] { $"user{i}@Slow.Test" }, subject = $"slow {i}", text = "t" }));
        for (var i = 0; i < 200; i++)
            fast.Add(await Jobs.PostAndGetIdAsync(pipeline.Http, new { to = new[] { $"user{i}@fast.test" }, subject = $"fast {i}", text = "t" }));

        var started = DateTimeOffset.UtcNow;
        await pipeline.StartWorkerAsync();
        await Eventually.TrueAsync(() => pipeline.Relay.AcceptedJobIds.Count(fast.Contains) == 200, "every fast job", TimeSpan.FromSeconds(30));
        var fastDone = DateTimeOffset.UtcNow - started;
        await Eventually.TrueAsync(() => pipeline.Relay.AcceptedJobIds.Count(slow.Contains) == 20, "every slow job", TimeSpan.FromSeconds(60));

        var slowTimes = pipeline.Relay.Accepted.Where(m => slow.Contains(m.Message.MessageId!.Split('@')[0])).Select(m => m.At).Order().ToList();
        var slowSpan = slowTimes[^1] - slowTimes[0];
        var busiest = slowTimes.Select(t => slowTimes.Count(u => u >= t && u < t.AddSeconds(1))).Max();
        var slowSentBeforeFastDone = slowTimes.Count(t => t < started + fastDone);
        output.WriteLine($"200 fast jobs in {fastDone.TotalSeconds:0.0} s (with {slowSentBeforeFastDone} slow ones sent by then); " +
            $"20 slow ones over {slowSpan.TotalSeconds:0.0} s, busiest second {busiest}");
        Assert.True(fastDone < TimeSpan.FromSeconds(5), $"the fast jobs took {fastDone.TotalSeconds:0.0} s: held up by the slow ones");
        Assert.True(slowSentBeforeFastDone < 20, "every slow job was sent before the fast ones finished: the limit held nothing");
        Assert.InRange(busiest, 1, 2); // the domain's limit in every one-second window at the relay
        Assert.InRange(slowSpan.TotalSeconds, 8.5, 15);
    }
}
