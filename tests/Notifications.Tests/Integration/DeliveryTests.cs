using System.Text;
using Notifications.Core.Contract;
using Notifications.Tests.Infrastructure;
using RabbitMQ.Client;

namespace Notifications.Tests.Integration;

/// <summary>The whole flow on the real broker and a real SMTP server: POST → queue → worker → relay, retry, DLQ.</summary>
public sealed class DeliveryTests
{
    [Fact]
    public async Task Posted_job_reaches_the_relay_with_its_id_in_the_Message_Id()
    {
        await using var pipeline = await Pipeline.StartAsync();

        var id = await Jobs.PostAndGetIdAsync(pipeline.Http, Jobs.Valid("Hello relay"));

        await Eventually.TrueAsync(() => pipeline.Relay.Accepted.Count == 1, "the mail at the relay");
        var mail = pipeline.Relay.Accepted[0].Message;
        Assert.Equal("Hello relay", mail.Subject);
        Assert.StartsWith(id + "@", mail.MessageId ?? "");
        Assert.Equal("alice@example.com", mail.To.Mailboxes.Single().Address);
        Assert.Equal("no-reply@example.com", mail.From.Mailboxes.Single().Address);
        Assert.Equal("spring", mail.Headers["X-Campaign"]);
        Assert.Equal("It is on its way.", mail.TextBody?.Trim());
        await Eventually.ReturnsAsync(() => pipeline.Queues.CountAsync(pipeline.Names.SendQueue), n => n == 0, "an empty work queue");
        Assert.Equal(0u, await pipeline.Queues.CountAsync(pipeline.Names.DeadQueue));
    }

    [Fact]
    public async Task Two_transient_failures_then_success_waits_the_configured_delays()
    {
        await using var pipeline = await Pipeline.StartAsync();
        pipeline.Relay.Script(TestRelay.Transient(), TestRelay.Transient());

        await Jobs.PostAndGetIdAsync(pipeline.Http, Jobs.Valid());

        await Eventually.TrueAsync(() => pipeline.Relay.Accepted.Count == 1, "delivery after two 4xx");
        var attempts = pipeline.Relay.Attempts;
        Assert.Equal(3, attempts.Count);
        // Retry:Delays in the pipeline are 300 ms and 600 ms; the broker may only hold a job longer, never shorter.
        Assert.True(attempts[1] - attempts[0] >= TimeSpan.FromMilliseconds(280), $"first wait {attempts[1] - attempts[0]}");
        Assert.True(attempts[2] - attempts[1] >= TimeSpan.FromMilliseconds(580), $"second wait {attempts[2] - attempts[1]}");
        Assert.Equal(0u, await pipeline.Queues.CountAsync(pipeline.Names.DeadQueue));
    }

    [Fact]
    public async Task Fourth_transient_failure_dead_letters_with_history()
    {
        await using var pipeline = await Pipeline.StartAsync();
        pipeline.Relay.Script(Enumerable.Range(0, 4).Select(_ => TestRelay.Transient("4.7.0 greylisted")).ToArray());

        var id = await Jobs.PostAndGetIdAsync(pipeline.Http, Jobs.Valid());

        var dead = (await pipeline.Queues.WaitAndTakeAsync(pipeline.Names.DeadQueue, 1)).Single();
        Assert.Equal(4, pipeline.Relay.Attempts.Count);
        Assert.Empty(pipeline.Relay.Accepted);
        Assert.Equal(id, dead.Properties.MessageId);
        Assert.Equal(4, dead.IntHeader(JobHeaders.Attempts));
        Assert.Equal("transient", dead.Header(JobHeaders.FailureKind));
        Assert.Contains("greylisted", dead.Header(JobHeaders.LastError));
        Assert.DoesNotContain('\n', dead.Header(JobHeaders.LastError)!);
        var first = DateTimeOffset.Parse(dead.Header(JobHeaders.FirstFailedAt)!);
        var last = DateTimeOffset.Parse(dead.Header(JobHeaders.LastFailedAt)!);
        Assert.True(last - first >= TimeSpan.FromMilliseconds(1_700), $"failures span {last - first}, delays add up to 1.8 s");
        Assert.Equal(JobMessage.Type, dead.Properties.Type);
        Assert.Equal(DeliveryModes.Persistent, dead.Properties.DeliveryMode);
        Assert.True(JobCodec.TryDecode(dead.Body, out var job, out _));
        Assert.Equal(id, job!.Id);
    }

    [Fact]
    public async Task Permanent_failure_dead_letters_after_exactly_one_attempt()
    {
        await using var pipeline = await Pipeline.StartAsync();
        pipeline.Relay.Script(TestRelay.Permanent());

        await Jobs.PostAndGetIdAsync(pipeline.Http, Jobs.Valid());

        var dead = (await pipeline.Queues.WaitAndTakeAsync(pipeline.Names.DeadQueue, 1)).Single();
        Assert.Equal("permanent", dead.Header(JobHeaders.FailureKind));
        Assert.Equal(1, dead.IntHeader(JobHeaders.Attempts));
        Assert.StartsWith("SMTP 550", dead.Header(JobHeaders.LastError));
        Assert.Single(pipeline.Relay.Attempts);
        for (var n = 1; n <= 3; n++)
            Assert.Equal(0u, await pipeline.Queues.CountAsync(pipeline.Names.RetryQueue(n)));
    }

    [Fact]
    public async Task Garbage_in_the_work_queue_is_dead_lettered_as_poison_and_the_worker_keeps_serving()
    {
        await using var pipeline = await Pipeline.StartAsync();

        await pipeline.Queues.PublishRawAsync("email.send", Encoding.UTF8.GetBytes("}{ not json"),
            new BasicProperties { MessageId = "garbage-1", DeliveryMode = DeliveryModes.Persistent });
        await pipeline.Queues.PublishRawAsync("email.send", Encoding.UTF8.GetBytes("""{"to":["nobody"],"subject":"x"}"""),
            new BasicProperties { MessageId = "garbage-2", DeliveryMode = DeliveryModes.Persistent });

        var dead = await pipeline.Queues.WaitAndTakeAsync(pipeline.Names.DeadQueue, 2);
        Assert.All(dead, message => Assert.Equal("poison", message.Header(JobHeaders.FailureKind)));
        Assert.Equal(new[] { "garbage-1", "garbage-2" }, dead.Select(m => m.Properties.MessageId!).Order().ToArray());
        Assert.Empty(pipeline.Relay.Attempts);

        await Jobs.PostAndGetIdAsync(pipeline.Http, Jobs.Valid("after the garbage"));
        await Eventually.TrueAsync(() => pipeline.Relay.Accepted.Count == 1, "a good job still delivered");
    }
}
