using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Notifications.Core.Clients;
using Notifications.Core.Webhooks;
using Notifications.Dlq;
using Notifications.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Notifications.Tests.Integration;

/// <summary>Callbacks to clients' endpoints: signed, retried through the broker, isolated per endpoint.</summary>
public sealed class WebhookTests(ITestOutputHelper output)
{
    private static readonly string TestsSecret = WebhookSecret.New();
    private static readonly string ShopSecret = WebhookSecret.New();

    private static async Task<Pipeline> StartAsync(WebhookReceiver receiver, Action<Dictionary<string, string?>>? configure = null,
        string? shopKey = null, WebhookReceiver? shopReceiver = null) =>
        await Pipeline.StartAsync(configure: s =>
        {
            s[$"Clients:{TestClients.Name}:Webhook:Url"] = receiver.Url("/tests");
            s[$"Clients:{TestClients.Name}:Webhook:Secret"] = TestsSecret;
            if (shopKey is not null)
            {
                s["Clients:shop:KeyHashes:0"] = ClientRegistry.HashOf(shopKey);
                s["Clients:shop:AllowedFrom:0"] = "shop@example.com";
                s["Clients:shop:Webhook:Url"] = (shopReceiver ?? receiver).Url("/shop");
                s["Clients:shop:Webhook:Secret"] = ShopSecret;
            }
            configure?.Invoke(s);
        });

    [Fact]
    public async Task Sent_retrying_and_dead_outcomes_arrive_signed_with_the_jobs_metadata_and_never_its_content()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var pipeline = await StartAsync(receiver);
        pipeline.Relay.Script(TestRelay.Transient(), TestRelay.Permanent()); // the first mail fails once, the second for good

        var retried = await Jobs.PostAndGetIdAsync(pipeline.Http, Jobs.Valid("retried"));
        await Eventually.TrueAsync(() => receiver.Received.Any(c => c.Type == WebhookEvent.Retrying), "email.retrying");
        var dead = await Jobs.PostAndGetIdAsync(pipeline.Http, Jobs.Valid("dead"));
        await Eventually.TrueAsync(() => receiver.Received.Count(c => c.Type is WebhookEvent.Sent or WebhookEvent.Dead) == 2, "email.sent and email.dead");

        var callbacks = receiver.Received;
        output.WriteLine(string.Join("\n", callbacks.Select(c => c.Body)));
        var retrying = callbacks.Single(c => c.Type == WebhookEvent.Retrying);
        var sent = callbacks.Single(c => c.Type == WebhookEvent.Sent);
        var deadCallback = callbacks.Single(c => c.Type == WebhookEvent.Dead);
        Assert.Equal((retried, "retrying", 1), (retrying.Data.GetProperty("id").GetString(), retrying.Data.GetProperty("status").GetString(),
            retrying.Data.GetProperty("attempt").GetInt32()));
        Assert.Equal((retried, 2), (sent.Data.GetProperty("id").GetString(), sent.Data.GetProperty("attempt").GetInt32()));
        Assert.Equal((dead, "permanent"), (deadCallback.Data.GetProperty("id").GetString(), deadCallback.Data.GetProperty("kind").GetString()));
        Assert.All(callbacks, c =>
        {
            Assert.Equal("/tests", c.Path);
            Assert.Equal("42", c.Data.GetProperty("metadata").GetProperty("orderId").GetString());
            Assert.Equal(TestClients.Name, c.Data.GetProperty("client").GetString());
            Assert.DoesNotContain("It is on its way", c.Body); // the mail's text stays between the caller and the relay
            Assert.DoesNotContain("\"subject\"", c.Body);
            StandardWebhookVerifier.Verify(TestsSecret, c); // the reference implementation accepts what the service signed
        });
    }

    [Fact]
    public async Task A_receiver_that_answers_500_three_times_gets_the_event_once_it_recovers_with_the_same_webhook_id()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var answers = 0;
        receiver.Respond = _ => Task.FromResult(Interlocked.Increment(ref answers) <= 3 ? 500 : 200);
        // The retry ladder is what this test is about: its delays shortened from 10 s, 1 min, 10 min, ...
        await using var pipeline = await StartAsync(receiver, s =>
        {
            for (var i = 0; i < 5; i++)
                s[$"Webhooks:Delays:{i}"] = "00:00:00.500";
        });

        var id = await Jobs.PostAndGetIdAsync(pipeline.Http, Jobs.Valid());

        await Eventually.TrueAsync(() => receiver.Received.Count >= 4, "four attempts");
        await Eventually.NeverAsync(() => receiver.Received.Count > 4, "a fifth attempt", TimeSpan.FromSeconds(2));
        var attempts = receiver.Received;
        Assert.Equal(4, attempts.Count);
        Assert.Single(attempts.Select(a => a.Id).Distinct());
        Assert.All(attempts, a => Assert.Equal(id, a.Data.GetProperty("id").GetString()));
        Assert.All(attempts, a => StandardWebhookVerifier.Verify(TestsSecret, a));
        Assert.Equal(0u, await pipeline.Queues.CountAsync(pipeline.Names.WebhookDeadQueue));
    }

    [Fact]
    public async Task While_an_endpoints_circuit_is_open_its_webhooks_wait_without_spending_attempts_and_are_delivered_once_it_recovers()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var answers = 0;
        // Just enough failures to open the endpoint's circuit (ratio 0.5 over at least 5 calls), then healthy: the first
        // try after the 15 s break (the probe) succeeds. More failures would make the probes fail and reopen it for 15 s each.
        var delivered = new System.Collections.Concurrent.ConcurrentDictionary<string, int>();
        receiver.Respond = callback =>
        {
            if (Interlocked.Increment(ref answers) <= 5)
                return Task.FromResult(500);
            delivered.AddOrUpdate(callback.Data.GetProperty("id").GetString()!, 1, (_, n) => n + 1);
            return Task.FromResult(200);
        };
        // The shipped ladder's shape (five steps) with short steps: the whole ladder takes 2.5 s, the circuit breaks for 15 s.
        await using var pipeline = await StartAsync(receiver, s =>
        {
            for (var i = 0; i < 5; i++)
                s[$"Webhooks:Delays:{i}"] = "00:00:00.500";
        });

        var ids = new List<string>();
        for (var i = 0; i < 4; i++)
            ids.Add(await Jobs.PostAndGetIdAsync(pipeline.Http, Jobs.Valid($"circuit {i}")));

        await Eventually.TrueAsync(() => ids.All(delivered.ContainsKey), "every email.sent answered 200 once the circuit closed",
            TimeSpan.FromSeconds(90));

        var callbacks = receiver.Received;
        output.WriteLine($"{callbacks.Count} requests reached the receiver for {ids.Count} webhooks");
        Assert.Equal(0u, await pipeline.Queues.CountAsync(pipeline.Names.WebhookDeadQueue));
        Assert.All(ids, id => Assert.Equal(1, delivered[id])); // each delivered once
        foreach (var id in ids)
        {
            var mine = callbacks.Where(c => c.Data.GetProperty("id").GetString() == id).ToList();
            Assert.Single(mine.Select(c => c.Id).Distinct()); // one webhook-id across its attempts
            Assert.True(mine.Count <= 5, $"job {id}'s webhook reached the receiver {mine.Count} times: the ladder has 5 attempts");
        }
        // The receiver saw far fewer requests than the ladder's retries would have made had the open circuit spent attempts.
        Assert.True(callbacks.Count <= 5 + ids.Count + 1, $"{callbacks.Count} requests");
    }

    [Fact]
    public async Task A_hanging_endpoint_of_one_client_does_not_delay_another_clients_callbacks()
    {
        var shopKey = TestClients.NewKey();
        await using var receiver = await WebhookReceiver.StartAsync(); // client "tests": its endpoint hangs
        await using var shopReceiver = await WebhookReceiver.StartAsync(); // client "shop": another host (port)
        using var hang = new CancellationTokenSource();
        receiver.Respond = async _ =>
        {
            await Task.Delay(Timeout.Infinite, hang.Token).ContinueWith(_ => { }); // never answers (until the test ends)
            return 200;
        };
        await using var pipeline = await StartAsync(receiver, shopKey: shopKey, shopReceiver: shopReceiver);
        using var shop = pipeline.NewClient(shopKey);

        for (var i = 0; i < 20; i++)
            await Jobs.PostAndGetIdAsync(pipeline.Http, Jobs.Valid($"to a hanging endpoint {i}"));
        await Eventually.TrueAsync(() => receiver.Received.Count >= 4, "the hanging endpoint to be busy");
        var clock = Stopwatch.StartNew();
        using var response = await shop.PostAsJsonAsync("/api/send-email", new { to = new[] { "bob@example.com" }, subject = "s", text = "t" });
        var shopJob = (await response.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>()).GetProperty("id").GetString();
        await Eventually.TrueAsync(() => shopReceiver.Received.Any(), "the other client's callback", TimeSpan.FromSeconds(30));
        var latency = clock.Elapsed;

        output.WriteLine($"shop's callback {latency.TotalMilliseconds:0} ms after its job was accepted; hanging endpoint requests: " +
            receiver.Received.Count);
        Assert.Equal(shopJob, shopReceiver.Received.Single().Data.GetProperty("id").GetString());
        Assert.True(latency < TimeSpan.FromSeconds(3), $"the other client's callback took {latency.TotalMilliseconds:0} ms");
        StandardWebhookVerifier.Verify(ShopSecret, shopReceiver.Received.Single());
        await hang.CancelAsync();
    }

    [Fact]
    public async Task Gone_410_dead_letters_at_once_and_a_replay_from_webhook_dead_is_delivered_with_the_same_id()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var gone = true;
        receiver.Respond = _ => Task.FromResult(Volatile.Read(ref gone) ? 410 : 200);
        await using var pipeline = await StartAsync(receiver);

        await Jobs.PostAndGetIdAsync(pipeline.Http, Jobs.Valid());
        await Eventually.ReturnsAsync(() => pipeline.Queues.CountAsync(pipeline.Names.WebhookDeadQueue), n => n == 1, "the webhook in webhook.dead");
        Assert.Single(receiver.Received); // no retry after 410
        var settings = new Dictionary<string, string?>(pipeline.Settings);
        var list = new StringWriter();
        Assert.Equal(0, await DlqTool.RunAsync(["list", "--queue", "webhook.dead", "--json"], list, new StringWriter(), settings, isTerminal: false));
        Assert.Contains("\"kind\":\"gone\"", list.ToString());
        var listed = System.Text.Json.JsonDocument.Parse(list.ToString()).RootElement[0];
        Assert.Equal("Alice <alice@example.com>", listed.GetProperty("to").GetString()); // a callback's recipients, not an empty column
        Assert.StartsWith("email.sent callback of job ", listed.GetProperty("subject").GetString());

        Volatile.Write(ref gone, false);
        var replay = new StringWriter();
        Assert.Equal(0, await DlqTool.RunAsync(["replay", "--all", "--queue", "webhook.dead"], replay, new StringWriter(), settings, isTerminal: false));

        await Eventually.TrueAsync(() => receiver.Received.Count == 2, "the replayed callback");
        Assert.Equal(receiver.Received[0].Id, receiver.Received[1].Id);
        Assert.Equal(0u, await pipeline.Queues.CountAsync(pipeline.Names.WebhookDeadQueue));
    }

    [Fact]
    public async Task A_poison_jobs_email_dead_callback_carries_the_recipients_and_metadata_its_body_still_shows()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var pipeline = await StartAsync(receiver);
        var id = Guid.NewGuid().ToString();
        var properties = new RabbitMQ.Client.BasicProperties
        {
            MessageId = id, DeliveryMode = RabbitMQ.Client.DeliveryModes.Persistent,
            Headers = new Dictionary<string, object?> { [Notifications.Core.Contract.JobHeaders.Client] = TestClients.Name },
        };
        // A subject of the wrong type: not a job, but its recipients and metadata are still there to read.
        await pipeline.Queues.PublishRawAsync(Notifications.Core.Topology.TopologyNames.SendKey, System.Text.Encoding.UTF8.GetBytes(
            $$$"""{"id":"{{{id}}}","to":["Bob <bob@example.com>"],"bcc":["hidden@example.com"],"subject":42,"metadata":{"orderId":"7","n":1}}"""),
            properties);

        await Eventually.TrueAsync(() => receiver.Received.Any(c => c.Type == WebhookEvent.Dead), "email.dead");
        var dead = receiver.Received.Single(c => c.Type == WebhookEvent.Dead);
        Assert.Equal(id, dead.Data.GetProperty("id").GetString());
        Assert.Equal("poison", dead.Data.GetProperty("kind").GetString());
        Assert.Equal(["Bob <bob@example.com>"], dead.Data.GetProperty("recipients").EnumerateArray().Select(r => r.GetString()));
        Assert.Equal("7", dead.Data.GetProperty("metadata").GetProperty("orderId").GetString());
        Assert.DoesNotContain("hidden@example.com", dead.Body); // bcc never
        StandardWebhookVerifier.Verify(TestsSecret, dead);
    }

    [Fact]
    public async Task A_client_without_a_webhook_gets_no_callbacks_and_nothing_waits_in_webhook_send()
    {
        await using var pipeline = await Pipeline.StartAsync();

        var id = await Jobs.PostAndGetIdAsync(pipeline.Http, Jobs.Valid());

        await Eventually.TrueAsync(() => pipeline.Relay.AcceptedJobIds.Contains(id), "the mail");
        Assert.Equal(0u, await pipeline.Queues.CountAsync(pipeline.Names.WebhookSendQueue));
    }
}
