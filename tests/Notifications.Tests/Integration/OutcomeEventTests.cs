using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Notifications.Contracts;
using Notifications.Tests.Infrastructure;
using RabbitMQ.Client;

namespace Notifications.Tests.Integration;

/// <summary>Outcome events a subscriber receives, and the status query they feed.</summary>
public sealed class OutcomeEventTests(Xunit.Abstractions.ITestOutputHelper output)
{
    [Fact]
    public async Task Subscriber_hears_EmailSent_for_a_delivered_job_and_EmailDeadLettered_for_a_5xx_one()
    {
        await using var pipeline = await Pipeline.StartAsync();
        await using var subscriber = await SampleSubscriber.StartAsync(pipeline.Settings["RabbitMq:Uri"]!, pipeline.Names.Prefix);

        var sentId = await Jobs.PostAndGetIdAsync(pipeline.Http, new
        {
            to = new[] { "Alice <alice@example.com>" }, cc = new[] { "carol@example.com" }, bcc = new[] { "hidden@example.com" },
            subject = "delivered", text = "t",
        });
        await Eventually.TrueAsync(() => subscriber.Of<EmailSent>(sentId).Any(), "EmailSent");
        pipeline.Relay.Script(TestRelay.Permanent("5.1.1 no such user"));
        var deadId = await Jobs.PostAndGetIdAsync(pipeline.Http, Jobs.Valid("refused"));
        await Eventually.TrueAsync(() => subscriber.Of<EmailDeadLettered>(deadId).Any(), "EmailDeadLettered");

        foreach (var received in subscriber.Received)
            output.WriteLine($"subscriber received {received.GetType().Name}: {JsonSerializer.Serialize(received, received.GetType())}");
        var sent = subscriber.Of<EmailSent>(sentId).First();
        Assert.Equal(["Alice <alice@example.com>", "carol@example.com"], sent.Recipients); // never the bcc
        Assert.Equal(TestClients.Name, sent.Client);
        Assert.Equal(1, sent.Attempts);
        Assert.False(string.IsNullOrEmpty(sent.RelayReply));
        var dead = subscriber.Of<EmailDeadLettered>(deadId).First();
        Assert.Equal("permanent", dead.Kind);
        Assert.Contains("no such user", dead.LastError);
        Assert.Equal(1, dead.Attempts);
        Assert.Equal(TestClients.Name, dead.Client);
        Assert.Empty(subscriber.Of<EmailSent>(deadId));
    }

    [Fact]
    public async Task Status_walks_queued_retrying_sent()
    {
        await using var pipeline = await Pipeline.StartAsync(worker: false);
        pipeline.Relay.Script(TestRelay.Transient("4.2.0 mailbox busy"));

        using var accepted = await pipeline.Http.PostAsJsonAsync("/api/send-email", Jobs.Valid());
        var id = (await accepted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        Assert.Equal($"/api/emails/{id}", accepted.Headers.Location?.OriginalString);
        var queued = await StatusAsync(pipeline, id);
        await pipeline.StartWorkerAsync();
        var retrying = await Eventually.ReturnsAsync(() => StatusAsync(pipeline, id), s => s.GetProperty("status").GetString() != "queued", "retrying");
        var sent = await Eventually.ReturnsAsync(() => StatusAsync(pipeline, id), s => s.GetProperty("status").GetString() == "sent", "sent");

        foreach (var answer in new[] { queued, retrying, sent })
            output.WriteLine($"GET /api/emails/{id} → {answer}");
        Assert.Equal("queued", queued.GetProperty("status").GetString());
        Assert.Equal("retrying", retrying.GetProperty("status").GetString());
        Assert.Equal(1, retrying.GetProperty("attempt").GetInt32());
        Assert.Contains("mailbox busy", retrying.GetProperty("error").GetString());
        Assert.Equal(2, sent.GetProperty("attempt").GetInt32());
        Assert.True(sent.GetProperty("at").GetDateTimeOffset() > queued.GetProperty("at").GetDateTimeOffset());
        Assert.Equal(HttpStatusCode.NotFound, (await pipeline.Http.GetAsync("/api/emails/never-seen")).StatusCode);
    }

    [Fact]
    public async Task Refused_event_publish_leaves_the_job_unacked_and_the_mail_sent_once()
    {
        await using var pipeline = await Pipeline.StartAsync(worker: false);
        var exchange = pipeline.Names.Prefix + "Notifications.Contracts:EmailSent";
        var refusing = pipeline.Names.Prefix + "refuses-every-EmailSent";
        var connection = await BrokerEnvironment.ConnectionAsync();
        await using (var channel = await connection.CreateChannelAsync())
        {
            // A bound queue that takes nothing makes the broker nack every EmailSent publish.
            await channel.ExchangeDeclareAsync(exchange, ExchangeType.Fanout, durable: true);
            await channel.QueueDeclareAsync(refusing, durable: true, exclusive: false, autoDelete: false,
                arguments: new Dictionary<string, object?> { ["x-max-length"] = 0, ["x-overflow"] = "reject-publish" });
            await channel.QueueBindAsync(refusing, exchange, "");
        }
        await pipeline.StartWorkerAsync();

        await Jobs.PostAndGetIdAsync(pipeline.Http, Jobs.Valid());
        await Eventually.TrueAsync(() => pipeline.Relay.Accepted.Count == 1, "the mail");
        await pipeline.StopWorkerAsync();
        Assert.Equal(1u, await pipeline.Queues.CountAsync(pipeline.Names.SendQueue)); // not acked: back in the queue

        await using (var channel = await connection.CreateChannelAsync())
            await channel.QueueDeleteAsync(refusing, ifUnused: false, ifEmpty: false);
        await pipeline.StartWorkerAsync();
        await Eventually.ReturnsAsync(() => pipeline.Queues.CountAsync(pipeline.Names.SendQueue), n => n == 0, "the job acked once its event is confirmed");

        Assert.Single(pipeline.Relay.Accepted);
        Assert.Single(pipeline.Relay.Attempts);
    }

    private static async Task<JsonElement> StatusAsync(Pipeline pipeline, string id)
    {
        using var response = await pipeline.Http.GetAsync($"/api/emails/{id}");
        return response.StatusCode == HttpStatusCode.OK
            ? await response.Content.ReadFromJsonAsync<JsonElement>()
            : JsonDocument.Parse("""{"status":"unknown"}""").RootElement;
    }
}
