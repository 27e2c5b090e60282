using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Notifications.Core.Clients;
using Notifications.Core.Store;
using Notifications.Core.Webhooks;
using Notifications.Tests.Infrastructure;

namespace Notifications.Tests.Integration;

/// <summary>
/// Test mode (<c>Clients:&lt;name&gt;:Mode=Test</c>): a test client's mail goes through everything but the relay, each
/// simulator address produces its outcome, status, event and signed webhook marked <c>test</c>, and live clients are
/// untouched by what its simulated bounces and complaints do.
/// </summary>
public sealed class TestModeTests
{
    private const string Simulator = "simulator.notifications.test";
    private static readonly string HookSecret = WebhookSecret.New();
    private static readonly string LiveKey = TestClients.NewKey();

    private static Action<Dictionary<string, string?>> TestClient(WebhookReceiver receiver) => s =>
    {
        s[$"Clients:{TestClients.Name}:Mode"] = "Test";
        s[$"Clients:{TestClients.Name}:Webhook:Url"] = receiver.Url("/tests");
        s[$"Clients:{TestClients.Name}:Webhook:Secret"] = HookSecret;
        s["Clients:live:KeyHashes:0"] = ClientRegistry.HashOf(LiveKey);
        s["Clients:live:AllowedFrom:0"] = "alerts@example.com";
        // Reports come back to the return path, as in production: bounce handling on.
        s["Bounces:Domain"] = "bounces.example.com";
        s["Bounces:Secret"] = Convert.ToBase64String(new byte[32]) + "test-mode-secret";
    };

    private static Task<JsonElement> StatusWhenAsync(HttpClient http, string id, Func<string, bool> done, string what) =>
        StatusWhenAsync(http, id, s => done(s.GetProperty("status").GetString()!), what);

    private static Task<JsonElement> StatusWhenAsync(HttpClient http, string id, Func<JsonElement, bool> done, string what) =>
        Jobs.StatusWhenAsync(http, id, done, what, TimeSpan.FromSeconds(60));

    private static Task<string> SendAsync(HttpClient http, params string[] to) =>
        Jobs.PostAndGetIdAsync(http, new { to, subject = "Integration test", text = "hello" });

    private static WebhookReceiver.Callback Hook(WebhookReceiver receiver, string id, string type) =>
        receiver.Received.Single(c => c.Type == type && c.Data.GetProperty("id").GetString() == id);

    [Fact]
    public async Task Each_simulator_address_gets_its_outcome_status_and_signed_test_webhook_and_nothing_reaches_the_relay()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var pipeline = await Pipeline.StartAsync(configure: TestClient(receiver));

        // bounce@ beside another: rejected at RCPT, the mail sent to the other — and bounce@ suppressed for this client, so
        // the next mail to it alone is held back, as production would. (Alone and not yet suppressed, it is dead: the next test.)
        var mixed = await SendAsync(pipeline.Http, $"delivered@{Simulator}", $"bounce@{Simulator}");
        await StatusWhenAsync(pipeline.Http, mixed, s => s == JobStatus.Sent, "bounce@ beside delivered@: sent, with a rejected recipient");
        var delivered = await SendAsync(pipeline.Http, $"delivered@{Simulator}");
        var bounce = await SendAsync(pipeline.Http, $"bounce@{Simulator}");
        var defer = await SendAsync(pipeline.Http, $"defer@{Simulator}");
        var fail = await SendAsync(pipeline.Http, $"fail@{Simulator}");
        var slow = await SendAsync(pipeline.Http, $"slow@{Simulator}");
        var bounceLater = await SendAsync(pipeline.Http, $"bounce-later@{Simulator}");
        var complaint = await SendAsync(pipeline.Http, $"complaint@{Simulator}");
        var anyone = await SendAsync(pipeline.Http, "someone@example.org");

        await StatusWhenAsync(pipeline.Http, delivered, s => s == JobStatus.Sent, "delivered@ sent");
        await StatusWhenAsync(pipeline.Http, anyone, s => s == JobStatus.Sent, "any other address sent");
        await StatusWhenAsync(pipeline.Http, bounce, s => s == JobStatus.Suppressed, "bounce@ held back after its bounce");
        var deferred = await StatusWhenAsync(pipeline.Http, defer, s => s == JobStatus.Sent, "defer@ sent on its first retry");
        Assert.Equal(2, deferred.GetProperty("attempt").GetInt32());
        var failed = await StatusWhenAsync(pipeline.Http, fail, s => s == JobStatus.Dead, "fail@ dead after its retries");
        Assert.Equal(4, failed.GetProperty("attempt").GetInt32());
        Assert.Equal("transient", failed.GetProperty("kind").GetString());
        await StatusWhenAsync(pipeline.Http, slow, s => s == JobStatus.Sent, "slow@ sent after Test:SlowDelay");
        var later = await StatusWhenAsync(pipeline.Http, bounceLater,
            s => s.TryGetProperty("recipients", out var r) && r.ValueKind == JsonValueKind.Object && r.TryGetProperty("bounced", out _),
            "bounce-later@ sent, then its bounce recorded");
        Assert.Equal(JobStatus.Sent, later.GetProperty("status").GetString());
        await Eventually.TrueAsync(() => receiver.Received.Any(c => c.Type == WebhookEvent.Complained && c.Data.GetProperty("id").GetString() == complaint),
            "complaint@'s complaint", TimeSpan.FromSeconds(60));

        // Every callback is signed and says test; each outcome is there.
        await Eventually.TrueAsync(() => receiver.Received.Any(c => c.Type == WebhookEvent.Bounced && c.Data.GetProperty("id").GetString() == bounceLater),
            "bounce-later@'s bounce callback");
        Assert.All(receiver.Received, c =>
        {
            StandardWebhookVerifier.Verify(HookSecret, c);
            Assert.True(c.Data.GetProperty("test").GetBoolean(), $"{c.Type} of {c.Data.GetProperty("id")} is not marked test");
        });
        var mixedSent = Hook(receiver, mixed, WebhookEvent.Sent);
        Assert.True(mixedSent.Data.TryGetProperty("rejected", out var rejected), mixedSent.Body);
        Assert.Equal(["bounce@" + Simulator], rejected.EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(["bounce@" + Simulator], Hook(receiver, bounce, WebhookEvent.Suppressed).Data.GetProperty("suppressed").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(3, receiver.Received.Count(c => c.Type == WebhookEvent.Retrying && c.Data.GetProperty("id").GetString() == fail));
        Assert.Equal("5.1.1", Hook(receiver, bounceLater, WebhookEvent.Bounced).Data.GetProperty("bounceStatus").GetString());

        // The bounced address is held back from this client's mail, and only from it.
        var suppressions = pipeline.ApiServices.GetRequiredService<ISuppressions>();
        var entries = await suppressions.GetSuppressionsOfAsync($"bounce@{Simulator}", CancellationToken.None);
        Assert.NotEmpty(entries);
        Assert.All(entries, e => Assert.Equal((TestClients.Name, "*"), (e.Client, e.List)));
        Assert.Null(await suppressions.GetSuppressionAsync($"bounce@{Simulator}", CancellationToken.None));

        // The message log says what the simulator answered.
        var log = await pipeline.Http.GetFromJsonAsync<JsonElement>($"/api/messages/{delivered}");
        var attempt = log.GetProperty("events").EnumerateArray().First(e => e.GetProperty("type").GetString() == "attempt");
        Assert.Equal("simulator (test mode)", attempt.GetProperty("relay").GetString());

        Assert.Equal(0, pipeline.Relay.Connections);
    }

    [Fact]
    public async Task A_subscriber_hears_a_test_clients_outcome_events_marked_Test_and_a_live_clients_unmarked()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var pipeline = await Pipeline.StartAsync(configure: TestClient(receiver));
        await using var subscriber = await SampleSubscriber.StartAsync(pipeline.Settings["RabbitMq:Uri"]!, pipeline.Names.Prefix);
        using var live = pipeline.NewClient(LiveKey);

        var test = await SendAsync(pipeline.Http, $"delivered@{Simulator}");
        var bounce = await SendAsync(pipeline.Http, $"bounce@{Simulator}");
        var real = await Jobs.PostAndGetIdAsync(live, new { from = "alerts@example.com", to = new[] { "bob@example.com" }, subject = "live", text = "x" });

        await Eventually.TrueAsync(() => subscriber.Of<Notifications.Contracts.EmailSent>(test).Any()
            && subscriber.Of<Notifications.Contracts.EmailSent>(real).Any()
            && subscriber.Of<Notifications.Contracts.EmailDeadLettered>(bounce).Any(), "the three outcome events");
        Assert.True(subscriber.Of<Notifications.Contracts.EmailSent>(test).Single().Test);
        Assert.True(subscriber.Of<Notifications.Contracts.EmailDeadLettered>(bounce).Single().Test);
        Assert.Null(subscriber.Of<Notifications.Contracts.EmailSent>(real).Single().Test);
    }

    [Fact]
    public async Task A_test_clients_own_reputation_guard_pauses_it_on_its_simulated_bounces_and_leaves_the_live_client_sending()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var pipeline = await Pipeline.StartAsync(configure: s =>
        {
            TestClient(receiver)(s);
            s["Reputation:Window"] = "10"; // the test is about the guard: judged from the tenth recipient
            s["Reputation:MinSent"] = "10";
            s["Reputation:MaxBounceRate"] = "0.2";
        });
        using var live = pipeline.NewClient(LiveKey);

        for (var i = 0; i < 10; i++)
            await SendAsync(pipeline.Http, i < 3 ? $"bounce-later@{Simulator}" : $"delivered@{Simulator}");

        var paused = await Eventually.ReturnsAsync(() => pipeline.Http.PostAsJsonAsync("/api/send-email", Jobs.Valid("while paused")),
            r => r.StatusCode == HttpStatusCode.Forbidden, "the test client paused by its own guard", TimeSpan.FromSeconds(60));
        Assert.Equal("sending-paused", (await paused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("type").GetString());
        var hook = await Eventually.ReturnsAsync(() => Task.FromResult(receiver.Received.FirstOrDefault(c => c.Type == WebhookEvent.ClientPaused)),
            c => c is not null, "the client.paused webhook");
        Assert.True(hook!.Data.GetProperty("test").GetBoolean());

        using var fine = await live.PostAsJsonAsync("/api/send-email", new { from = "alerts@example.com", to = new[] { "bob@example.com" }, subject = "live", text = "x" });
        Assert.Equal(HttpStatusCode.Accepted, fine.StatusCode);
    }

    [Fact]
    public async Task A_live_client_is_untouched_by_a_test_clients_bounces_and_complaints_and_its_mail_still_goes_to_the_relay()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var pipeline = await Pipeline.StartAsync(configure: TestClient(receiver));
        using var live = pipeline.NewClient(LiveKey);

        var bounce = await SendAsync(pipeline.Http, $"bounce@{Simulator}");
        var complaint = await SendAsync(pipeline.Http, $"complaint@{Simulator}");
        var dead = await StatusWhenAsync(pipeline.Http, bounce, s => s == JobStatus.Dead, "bounce@ alone: a permanent failure, dead");
        Assert.Equal("permanent", dead.GetProperty("kind").GetString());
        Assert.Contains("5.1.1", dead.GetProperty("error").GetString());
        await Eventually.TrueAsync(() => receiver.Received.Any(c => c.Type == WebhookEvent.Complained), "the test client's complaint", TimeSpan.FromSeconds(60));

        // The same addresses from a live client: mailed, at the real relay, not held back.
        var liveBounce = await Jobs.PostAndGetIdAsync(live, new { from = "alerts@example.com", to = new[] { $"bounce@{Simulator}" }, subject = "live", text = "x" });
        var liveComplaint = await Jobs.PostAndGetIdAsync(live, new { from = "alerts@example.com", to = new[] { $"complaint@{Simulator}" }, subject = "live", text = "x" });
        await StatusWhenAsync(live, liveBounce, s => s == JobStatus.Sent, "the live client's mail to bounce@ sent");
        await StatusWhenAsync(live, liveComplaint, s => s == JobStatus.Sent, "the live client's mail to complaint@ sent");
        Assert.Equal([$"bounce@{Simulator}", $"complaint@{Simulator}"], pipeline.Relay.Accepted.SelectMany(m => m.Envelope).Order());

        // The live client's reputation counts nothing of the test client's.
        var reputation = pipeline.ApiServices.GetRequiredService<IReputation>();
        var state = await reputation.RecordReputationAsync("live", 0, [], 1000, CancellationToken.None);
        Assert.Equal((0, 0), (state.Bounces, state.Complaints));
        var tests = await reputation.RecordReputationAsync(TestClients.Name, 0, [], 1000, CancellationToken.None);
        Assert.Equal(1, tests.Complaints);
    }

    [Fact]
    public async Task A_test_key_works_over_the_batch_endpoint_and_SMTP_submission_and_still_nothing_reaches_the_relay()
    {
        using var certificate = TestCertificate.Create();
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var pipeline = await Pipeline.StartAsync(configure: s =>
        {
            TestClient(receiver)(s);
            Submitting.Listen(certificate)(s);
        });

        using var batch = await pipeline.Http.PostAsJsonAsync("/api/send-email/batch", new[]
        {
            new { to = new[] { $"delivered@{Simulator}" }, subject = "one", text = "x" },
            new { to = new[] { $"defer@{Simulator}" }, subject = "two", text = "x" },
        });
        Assert.True(batch.IsSuccessStatusCode, await batch.Content.ReadAsStringAsync());
        var ids = (await batch.Content.ReadFromJsonAsync<JsonElement>()).EnumerateArray().Select(i => i.GetProperty("id").GetString()!).ToList();

        using var smtp = await Submitting.ConnectAsync(await pipeline.SubmissionAsync());
        var message = new MimeKit.MimeMessage();
        message.From.Add(MimeKit.MailboxAddress.Parse("no-reply@example.com"));
        message.To.Add(MimeKit.MailboxAddress.Parse($"bounce-later@{Simulator}"));
        message.Subject = "by SMTP";
        message.Body = new MimeKit.TextPart("plain") { Text = "x" };
        var submitted = Submitting.JobIdOf(await smtp.SendAsync(message));

        foreach (var id in ids.Append(submitted))
            await StatusWhenAsync(pipeline.Http, id, s => s == JobStatus.Sent, $"{id} sent by the simulator");
        await Eventually.TrueAsync(() => receiver.Received.Any(c => c.Type == WebhookEvent.Bounced && c.Data.GetProperty("id").GetString() == submitted),
            "the submitted mail's simulated bounce", TimeSpan.FromSeconds(60));
        Assert.All(receiver.Received, c => Assert.True(c.Data.GetProperty("test").GetBoolean()));
        Assert.Equal(0, pipeline.Relay.Connections);
    }
}
