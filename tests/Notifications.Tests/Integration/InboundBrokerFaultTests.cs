using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Notifications.Tests.Infrastructure;

namespace Notifications.Tests.Integration;

/// <summary>The inbound receiver answers 250 only for what the broker holds: with the broker gone mid-DATA, 451, and the sender's retry lands.</summary>
[Collection(FaultBrokerCollection.Name)]
public sealed class InboundBrokerFaultTests
{
    [Fact]
    public async Task The_broker_stopped_mid_DATA_is_451_and_the_report_sent_again_once_it_is_back_is_recorded()
    {
        await using var broker = await FaultBroker.CreateAsync();
        await using var pipeline = await Pipeline.StartAsync(api: false, worker: false, configure: s =>
        {
            s["Bounces:Domain"] = BounceSamples.Domain;
            s["Bounces:Secret"] = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        });
        pipeline.Settings["RabbitMq:Uri"] = broker.Uri;
        await pipeline.StartApiAsync();
        await pipeline.StartWorkerAsync();
        var port = await pipeline.StartInboundAsync();
        var id = await Jobs.PostAndGetIdAsync(pipeline.Http, new { to = new[] { "bob@example.org" }, subject = "Your invoice", text = "Attached." });
        await Eventually.TrueAsync(() => pipeline.Relay.AcceptedJobIds.Contains(id), "the mail at the relay");
        var returnPath = pipeline.Relay.Accepted.Single().Sender;
        var report = BounceSamples.Load("postfix-hard", id, returnPath);

        string reply;
        try
        {
            await using var smtp = await RawSmtp.ConnectAsync(port);
            await smtp.CommandAsync("EHLO mail.example.net");
            Assert.StartsWith("250", await smtp.CommandAsync("MAIL FROM:<>"));
            Assert.StartsWith("250", await smtp.CommandAsync($"RCPT TO:<{returnPath}>"));
            Assert.StartsWith("354", await smtp.CommandAsync("DATA"));
            var text = Encoding.ASCII.GetString(report).ReplaceLineEndings("\r\n");
            await smtp.WriteAsync(text[..(text.Length / 2)]);
            await broker.StopAsync();
            await smtp.WriteAsync(text[(text.Length / 2)..] + "\r\n");
            reply = await smtp.CommandAsync(".");
        }
        finally
        {
            await broker.StartAsync();
        }
        Assert.StartsWith("451 4.3.0", reply);

        // The sender keeps what was answered 451 and tries again: once the broker is back, it is taken and recorded.
        await Eventually.ReturnsAsync(async () =>
        {
            await using var smtp = await RawSmtp.ConnectAsync(port);
            return await smtp.SendAsync("", [returnPath], report);
        }, r => r.StartsWith("250", StringComparison.Ordinal), "250 once the broker is back", TimeSpan.FromSeconds(60));
        await Eventually.ReturnsAsync(async () => await pipeline.Http.GetFromJsonAsync<JsonElement>($"/api/emails/{id}"),
            s => s.TryGetProperty("recipients", out var r) && r.ValueKind == JsonValueKind.Object && r.TryGetProperty("bounced", out _),
            "bob bounced on the job", TimeSpan.FromSeconds(60));
    }
}
