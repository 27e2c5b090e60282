using System.Net.Http.Json;
using System.Text.Json;
using Notifications.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Notifications.Tests.Integration;

/// <summary>Pacing to the relay's limits, and "slow down" taken as backpressure rather than failure.</summary>
public sealed class SendingPolicyTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Smtp_MaxPerSecond_50_sends_500_jobs_in_about_ten_seconds_never_more_than_55_in_any_second()
    {
        await using var pipeline = await Pipeline.StartAsync(worker: false, configure: s => s["Smtp:MaxPerSecond"] = "50");
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
        Assert.InRange(busiest, 1, 55);
        Assert.InRange(span.TotalSeconds, 9, 13);
    }

    [Fact]
    public async Task A_relay_that_throttles_every_third_mail_for_15_s_gets_every_job_once_and_costs_no_attempt()
    {
        await using var pipeline = await Pipeline.StartAsync();
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
}
