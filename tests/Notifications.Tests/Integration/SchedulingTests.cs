using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Notifications.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Notifications.Tests.Integration;

/// <summary>Scheduled sends wait in the broker's delay levels and reach their lane when due, whatever restarts meanwhile.</summary>
public sealed class SchedulingTests(ITestOutputHelper output)
{
    private static string At(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    private static async Task<string> ScheduleAsync(Pipeline pipeline, string subject, DateTimeOffset due)
    {
        using var response = await pipeline.Http.PostAsJsonAsync("/api/send-email",
            new { to = new[] { "bob@example.com" }, subject, text = "t", sendAt = At(due) });
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, body.ToString());
        Assert.Equal("scheduled", body.GetProperty("status").GetString());
        return body.GetProperty("id").GetString()!;
    }

    [Fact]
    public async Task Jobs_due_at_plus_3_1_5_s_arrive_in_time_order_within_2_s_of_each_even_when_the_worker_restarts_in_between()
    {
        await using var pipeline = await Pipeline.StartAsync();
        // Times counted from 2 s ahead: on a busy machine the first requests take a while, and "+1 s" must still be ahead when posted.
        var now = DateTimeOffset.UtcNow.AddSeconds(2);
        var due = new Dictionary<string, DateTimeOffset>();
        foreach (var (subject, seconds) in new[] { ("three", 3), ("one", 1), ("five", 5) })
        {
            var at = now.AddSeconds(seconds);
            due[await ScheduleAsync(pipeline, subject, at)] = at;
        }
        var status = await pipeline.Http.GetFromJsonAsync<JsonElement>($"/api/emails/{due.Keys.Last()}");
        Assert.Equal("scheduled", status.GetProperty("status").GetString());

        await pipeline.StopWorkerAsync(); // nothing but the broker holds them now
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        await pipeline.StartWorkerAsync();
        await Eventually.TrueAsync(() => pipeline.Relay.Accepted.Count >= 3, "the three mails", TimeSpan.FromSeconds(20));

        var arrivals = pipeline.Relay.Accepted.Select(m => (Id: m.Message.MessageId!.Split('@')[0], m.At)).ToList();
        output.WriteLine(string.Join("; ", arrivals.Select(a => $"{a.Id[..8]} {(a.At - due[a.Id]).TotalMilliseconds:+0;-0} ms from due")));
        Assert.Equal(due.OrderBy(d => d.Value).Select(d => d.Key), arrivals.Select(a => a.Id));
        Assert.All(arrivals, a => Assert.InRange((a.At - due[a.Id]).TotalSeconds, -0.1, 2));
        Assert.All(arrivals, a => Assert.True(a.At >= due[a.Id].AddMilliseconds(-100), "sent before it was due"));
    }

    [Fact]
    public async Task A_job_cancelled_before_it_is_due_is_never_sent()
    {
        await using var pipeline = await Pipeline.StartAsync();
        var at = DateTimeOffset.UtcNow.AddSeconds(4);
        var id = await ScheduleAsync(pipeline, "cancel me", at);
        var kept = await ScheduleAsync(pipeline, "keep me", at);

        using var cancel = await pipeline.Http.DeleteAsync($"/api/emails/{id}");
        await Eventually.TrueAsync(() => pipeline.Relay.AcceptedJobIds.Contains(kept), "the other job, due at the same time");
        await Eventually.NeverAsync(() => pipeline.Relay.AcceptedJobIds.Contains(id), "the cancelled job mailed", TimeSpan.FromSeconds(1));
        using var again = await pipeline.Http.DeleteAsync($"/api/emails/{id}");
        using var sent = await pipeline.Http.DeleteAsync($"/api/emails/{kept}");

        Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);
        Assert.DoesNotContain(id, pipeline.Relay.AcceptedJobIds);
        Assert.Equal("cancelled", (await pipeline.Http.GetFromJsonAsync<JsonElement>($"/api/emails/{id}")).GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, sent.StatusCode);
        Assert.Equal(0u, await pipeline.Queues.CountAsync(pipeline.Names.DeadQueue));
    }

    [Theory]
    [InlineData("2020-01-01T00:00:00Z", "in the future")]
    [InlineData("2030-01-01T09:00:00", "with an offset")]
    [InlineData("tomorrow", "with an offset")]
    [InlineData("+40d", "days ahead")]
    public async Task A_bad_sendAt_is_a_400_and_nothing_is_queued(string sendAt, string problem)
    {
        await using var pipeline = await Pipeline.StartAsync(worker: false);
        if (sendAt == "+40d")
            sendAt = At(DateTimeOffset.UtcNow.AddDays(40));

        using var response = await pipeline.Http.PostAsJsonAsync("/api/send-email", new { to = new[] { "bob@example.com" }, subject = "s", text = "t", sendAt });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var text = await response.Content.ReadAsStringAsync();
        Assert.Contains(problem, text);
        Assert.Equal(0u, await pipeline.Queues.CountAsync(pipeline.Names.SendQueue));
    }

    [Fact]
    public async Task A_broker_that_refuses_the_delay_levels_answers_a_scheduled_send_503_nothing_queued_not_500()
    {
        await using var pipeline = await Pipeline.StartAsync(worker: false);
        // A delay level declared by someone else with other arguments: declaring ours fails with PRECONDITION_FAILED.
        var level = Notifications.Core.Topology.DelayTopology.LevelName(pipeline.Names, 3);
        await using (var channel = await (await BrokerEnvironment.ConnectionAsync()).CreateChannelAsync())
            await channel.QueueDeclareAsync(level, durable: true, exclusive: false, autoDelete: false);
        try
        {
            using var response = await pipeline.Http.PostAsJsonAsync("/api/send-email",
                new { to = new[] { "bob@example.com" }, subject = "s", text = "t", sendAt = At(DateTimeOffset.UtcNow.AddMinutes(5)) });
            var body = await response.Content.ReadAsStringAsync();
            output.WriteLine(body);

            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.NotNull(response.Headers.RetryAfter);
            Assert.Contains("nothing was queued", body);
            Assert.Equal(0u, await pipeline.Queues.CountAsync(pipeline.Names.SendQueue));
        }
        finally
        {
            await using var channel = await (await BrokerEnvironment.ConnectionAsync()).CreateChannelAsync();
            await Notifications.Core.Topology.DelayTopology.DeleteAsync(channel, pipeline.Names);
        }
    }
}
