using System.Text.Json;
using Notifications.Core.Broker;
using Notifications.Core.Contract;
using Notifications.Core.Topology;
using Notifications.Worker.Sending;

namespace Notifications.Tests.Unit;

public sealed class ContractTests
{
    [Fact]
    public void Definitions_file_declares_exactly_the_topology_the_code_declares()
    {
        using var file = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "rabbitmq", "definitions.json")));
        var root = file.RootElement;
        var names = new TopologyNames("");
        var main = TopologyDefinition.Queues(names);
        var delay = DelayTopology.Queues(names);
        var expected = main.Concat(delay).ToList();

        var queues = root.GetProperty("queues").EnumerateArray().ToDictionary(q => q.GetProperty("name").GetString()!);
        Assert.Equal(expected.Select(q => q.Name).Order(), queues.Keys.Order());
        foreach (var queue in expected)
        {
            var declared = queues[queue.Name];
            Assert.True(declared.GetProperty("durable").GetBoolean(), queue.Name);
            var arguments = declared.GetProperty("arguments").EnumerateObject()
                .ToDictionary(p => p.Name, p => p.Value.ValueKind == JsonValueKind.Number ? (object)p.Value.GetInt64() : p.Value.GetString()!);
            Assert.Equal(queue.Arguments.OrderBy(a => a.Key).Select(a => $"{a.Key}={a.Value}"),
                arguments.OrderBy(a => a.Key).Select(a => $"{a.Key}={a.Value}"));
        }

        var bindings = root.GetProperty("bindings").EnumerateArray()
            .Select(b => $"{b.GetProperty("source").GetString()} -{b.GetProperty("routing_key").GetString()}-> {b.GetProperty("destination").GetString()}");
        var expectedBindings = main.Select(q => $"notifications -{q.RoutingKey}-> {q.Name}")
            .Concat(delay.Select(q => $"{q.Name} -{q.RoutingKey}-> {q.Name}"))
            .Concat(DelayTopology.ExchangeBindings(names).Select(b => $"{b.Source} -{b.Pattern}-> {b.Destination}"))
            .Concat(DelayTopology.DeliveryBindings(names).Select(b => $"{DelayTopology.DeliveryExchange(names)} -{b.Pattern}-> {b.Queue}"));
        Assert.Equal(expectedBindings.Order(), bindings.Order());
        var exchanges = root.GetProperty("exchanges").EnumerateArray()
            .Select(e => $"{e.GetProperty("name").GetString()}:{e.GetProperty("type").GetString()}").ToList();
        Assert.Equal(new[] { "notifications:direct", "delay.delivery:topic" }
            .Concat(Enumerable.Range(0, DelayTopology.Levels).Select(l => DelayTopology.LevelName(names, l) + ":topic")).Order(), exchanges.Order());
    }

    [Theory]
    [InlineData(0, "0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.email.send")]
    [InlineData(5, "0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1.0.1.email.send")]
    [InlineData(4.2, "0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1.0.1.email.send")] // whole seconds, rounded up
    public void A_delay_is_spelled_in_22_bits_highest_first_then_the_lane(double seconds, string key) =>
        Assert.Equal(key, DelayTopology.RoutingKey(TimeSpan.FromSeconds(seconds), TopologyNames.SendKey));

    [Fact]
    public void Prefix_goes_before_every_exchange_and_queue_but_not_the_routing_keys()
    {
        var names = new TopologyNames("blue.");
        Assert.Equal("blue.notifications", names.Exchange);
        Assert.All(TopologyDefinition.Queues(names), q => Assert.Matches(@"^blue\.(email|webhook|message)\.", q.Name));
        Assert.All(DelayTopology.Queues(names), q => Assert.StartsWith("blue.delay.level.", q.Name));
        Assert.All(TopologyDefinition.Queues(names), q => Assert.Matches(@"^(email|webhook|message)\.", q.RoutingKey));
        Assert.Equal("blue.notifications", TopologyDefinition.Queues(names)[0].Arguments["x-dead-letter-exchange"]);
    }

    [Fact]
    public void A_webhook_urls_user_and_password_never_reach_its_endpoints_name()
    {
        var webhook = new Notifications.Core.Clients.ClientWebhook(new Uri("https://hook:s3cret@hooks.example.com:8443/in?token=abc"), [1, 2, 3]);
        Assert.Equal("https://hooks.example.com:8443", webhook.Endpoint);
        Assert.DoesNotContain("s3cret", webhook.ToString());
        Assert.Equal("https://hooks.example.com", new Notifications.Core.Clients.ClientWebhook(new Uri("https://u:p@hooks.example.com/x"), [1]).Endpoint);
    }

    [Fact]
    public void Broker_password_never_reaches_a_log_line()
    {
        var redacted = SafeUri.Redact(new Uri("amqp://app:s3cret@broker.internal:5672/prod"));
        Assert.DoesNotContain("s3cret", redacted);
        Assert.Contains("app:***@broker.internal", redacted);
    }

    [Fact]
    public void Job_round_trips_through_the_codec_and_the_mime_message()
    {
        var job = new EmailJob
        {
            Id = "0193-job", CreatedAt = DateTimeOffset.UtcNow, From = "Shop <shop@example.com>",
            To = ["a@example.com"], Cc = ["b@example.com"], Bcc = ["c@example.com"], ReplyTo = "help@example.com",
            Subject = "Ünïcode subject", Text = "plain", Html = "<b>html</b>",
            Headers = new Dictionary<string, string> { ["X-Campaign"] = "spring" },
        };
        Assert.True(JobCodec.TryDecode(JobCodec.Encode(job), out var decoded, out _));

        var mime = MimeMessageFactory.Build(decoded!);
        Assert.Equal("0193-job@example.com", mime.MessageId);
        Assert.Equal("Ünïcode subject", mime.Subject);
        Assert.Equal("spring", mime.Headers["X-Campaign"]);
        Assert.Equal(["a@example.com", "b@example.com", "c@example.com"],
            mime.To.Mailboxes.Concat(mime.Cc.Mailboxes).Concat(mime.Bcc.Mailboxes).Select(m => m.Address));
        Assert.Equal("plain", mime.TextBody?.Trim());
        Assert.Equal("<b>html</b>", mime.HtmlBody?.Trim());
    }

    [Fact]
    public void Unreadable_bodies_are_refused_with_one_line()
    {
        Assert.False(JobCodec.TryDecode("\"just a string\""u8, out _, out var error));
        Assert.DoesNotContain('\n', error!);
        Assert.False(JobCodec.TryDecode("null"u8, out _, out _));
        Assert.False(JobCodec.TryDecode([0xff, 0xfe], out _, out _));
    }
}
