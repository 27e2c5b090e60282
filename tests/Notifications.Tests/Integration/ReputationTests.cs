using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Notifications.Core.Webhooks;
using Notifications.Dlq;
using Notifications.Tests.Infrastructure;
using SmtpServer.Protocol;
using Notifications.Core.Clients;

namespace Notifications.Tests.Integration;

/// <summary>
/// The reputation guard: a client whose hard bounces pass the limit is paused (403 sending-paused, client.paused), others
/// are not; the pause outlives an API restart; <c>dlq clients resume</c> ends it. The window and limits are shortened
/// here, as this test is about them: 10 recipients judged, 20 % of hard bounces allowed.
/// </summary>
public sealed class ReputationTests
{
    private static readonly string OtherKey = TestClients.NewKey();
    private static readonly string HookSecret = WebhookSecret.New();

    [Fact]
    public async Task A_client_over_the_bounce_limit_is_paused_others_are_not_the_pause_outlives_a_restart_and_dlq_resumes_it()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var pipeline = await Pipeline.StartAsync(configure: s =>
        {
            s["Reputation:Window"] = "10";
            s["Reputation:MinSent"] = "10";
            s["Reputation:MaxBounceRate"] = "0.2";
            s["Clients:other:KeyHashes:0"] = Notifications.Core.Clients.ClientRegistry.HashOf(OtherKey);
            s["Clients:other:AllowedFrom:0"] = "alerts@example.com";
            s[$"Clients:{TestClients.Name}:Webhook:Url"] = receiver.Url("/tests");
            s[$"Clients:{TestClients.Name}:Webhook:Secret"] = HookSecret;
        });
        pipeline.Relay.RecipientRule = address => address.StartsWith("gone", StringComparison.Ordinal)
            ? new SmtpResponse(SmtpReplyCode.MailboxUnavailable, "5.1.1 <" + address + ">: user unknown")
            : null;

        // 3 of the first 10 recipients bounce at RCPT TO: 30 % > 20 %, judged from the tenth.
        for (var i = 0; i < 10; i++)
        {
            var to = i < 3 ? $"gone{i}@example.org" : $"alive{i}@example.org";
            await Jobs.PostAndGetIdAsync(pipeline.Http, new { to = new[] { to }, subject = $"mail {i}", text = "Hi." });
        }
        var paused = await Eventually.ReturnsAsync(() => pipeline.Http.PostAsJsonAsync("/api/send-email", Jobs.Valid("while paused")),
            r => r.StatusCode == HttpStatusCode.Forbidden, "the client paused");
        var problem = await paused.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("sending-paused", problem.GetProperty("type").GetString());
        Assert.Contains("hard-bounce rate 30.0 %", problem.GetProperty("detail").GetString());
        var hook = await Eventually.ReturnsAsync(() => Task.FromResult(receiver.Received.FirstOrDefault(c => c.Type == WebhookEvent.ClientPaused)),
            c => c is not null, "the client.paused webhook");
        StandardWebhookVerifier.Verify(HookSecret, hook!);
        Assert.Equal(TestClients.Name, hook!.Data.GetProperty("client").GetString());

        using var other = pipeline.NewClient(OtherKey);
        Assert.Equal(HttpStatusCode.Accepted, (await other.PostAsJsonAsync("/api/send-email", Jobs.Valid("another client"))).StatusCode);

        await pipeline.StopApiAsync();
        await pipeline.StartApiAsync();
        await Eventually.ReturnsAsync(() => pipeline.Http.PostAsJsonAsync("/api/send-email", Jobs.Valid("after a restart")),
            r => r.StatusCode == HttpStatusCode.Forbidden, "still paused after a restart");

        var dlqSettings = new Dictionary<string, string?>(pipeline.Settings);
        var listed = new StringWriter();
        Assert.Equal(0, await DlqTool.RunAsync(["clients"], listed, new StringWriter(), dlqSettings));
        Assert.Matches(@"tests\s+paused", listed.ToString());
        Assert.Matches(@"other\s+sending", listed.ToString());
        var resumed = new StringWriter();
        Assert.Equal(0, await DlqTool.RunAsync(["clients", "resume", TestClients.Name], resumed, new StringWriter(), dlqSettings));
        Assert.StartsWith("resumed tests", resumed.ToString());
        Assert.Equal(3, await DlqTool.RunAsync(["clients", "resume", "nosuch"], new StringWriter(), new StringWriter(), dlqSettings));
        await Eventually.ReturnsAsync(() => pipeline.Http.PostAsJsonAsync("/api/send-email", Jobs.Valid("resumed")),
            r => r.StatusCode == HttpStatusCode.Accepted, "sending again after the resume");
    }
}
