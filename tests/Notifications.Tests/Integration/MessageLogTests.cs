using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Notifications.Core.Clients;
using Notifications.Core.MessageLog;
using Notifications.Tests.Infrastructure;
using SmtpServer.Protocol;

namespace Notifications.Tests.Integration;

/// <summary>
/// The message log end to end (docs/message-log.md): mail sent through the API and the worker is found by what a sender
/// asks about, with every event; clients see their own; bad searches are 400s naming the filter; a log store that is down
/// costs searches (503), never a mail; an operator's erasure forgets an address everywhere and is safe to repeat.
/// </summary>
public sealed class MessageLogTests
{
    private static readonly string OperatorKey = TestClients.NewKey();
    private static readonly string OtherKey = TestClients.NewKey();

    private static void TwoMoreClients(Dictionary<string, string?> settings)
    {
        settings["Clients:ops:KeyHashes:0"] = ClientRegistry.HashOf(OperatorKey);
        settings["Clients:ops:AllowedFrom:0"] = "ops@example.com";
        settings["Clients:ops:Operator"] = "true";
        settings["Clients:other:KeyHashes:0"] = ClientRegistry.HashOf(OtherKey);
        settings["Clients:other:AllowedFrom:0"] = "other@example.com";
    }

    private static async Task<string> SendAsync(HttpClient http, object mail)
    {
        using var response = await http.PostAsJsonAsync("/api/send-email", mail);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, body.ToString());
        return body.GetProperty("id").GetString()!;
    }

    private static Task<JsonElement> MessageWhenAsync(HttpClient http, string id, Func<JsonElement, bool> done, string what) =>
        Jobs.MessageWhenAsync(http, id, done, what);

    private static string[] Types(JsonElement message) => [.. message.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("type").GetString()!)];

    [Fact]
    public async Task A_sent_mail_is_found_by_recipient_metadata_and_subject_with_its_acceptance_attempt_and_send_and_what_it_said()
    {
        await using var pipeline = await Pipeline.StartAsync(configure: TwoMoreClients);
        var id = await SendAsync(pipeline.Http, new
        {
            to = new[] { "Bob <bob@example.com>" }, cc = new[] { "carol@example.org" }, subject = "Your password reset", text = "reset it",
            html = "<p>reset <b>it</b></p>", metadata = new Dictionary<string, string> { ["tenant"] = "acme" },
        });
        await SendAsync(pipeline.Http, new { to = new[] { "dan@example.com" }, subject = "Weekly digest", text = "news" });

        var message = await MessageWhenAsync(pipeline.Http, id, m => m.GetProperty("status").GetString() == "sent", "the mail logged as sent");
        Assert.Equal(["accepted", "attempt", "sent"], Types(message));
        var events = message.GetProperty("events");
        Assert.Equal("http", events[0].GetProperty("via").GetString());
        var attempt = events[1];
        Assert.Equal($"127.0.0.1:{pipeline.Relay.Port}", attempt.GetProperty("relay").GetString());
        Assert.False(attempt.GetProperty("tls").GetBoolean());
        Assert.True(attempt.GetProperty("durationMs").GetDouble() >= 0);
        var replies = attempt.GetProperty("recipients").EnumerateArray().ToDictionary(r => r.GetProperty("address").GetString()!, r => r.GetProperty("reply").GetString()!);
        Assert.Equal(["bob@example.com", "carol@example.org"], replies.Keys.Order());
        Assert.All(replies.Values, reply => Assert.Contains("Ok", reply, StringComparison.OrdinalIgnoreCase)); // the relay's answer to the mail
        Assert.Equal(["bob@example.com"], message.GetProperty("to").EnumerateArray().Select(a => a.GetString()));
        Assert.Equal("tests", message.GetProperty("client").GetString());

        foreach (var search in new[] { "recipient=BOB@example.com", "metadata[tenant]=acme", "subject=password", "recipient=carol@example.org&status=sent" })
        {
            var found = await pipeline.Http.GetFromJsonAsync<JsonElement>($"/api/messages?{search}");
            Assert.Equal([id], found.GetProperty("items").EnumerateArray().Select(m => m.GetProperty("id").GetString()));
        }
        var content = await pipeline.Http.GetFromJsonAsync<JsonElement>($"/api/messages/{id}/content");
        Assert.Equal("<p>reset <b>it</b></p>", content.GetProperty("html").GetString());
        Assert.Contains(content.GetProperty("headers").EnumerateArray(), h => h.GetProperty("name").GetString() == "Subject"
            && h.GetProperty("value").GetString()!.Contains("password reset"));

        // Another client knows nothing of it; an operator sees every client's.
        using var other = pipeline.NewClient(OtherKey);
        using var operatorClient = pipeline.NewClient(OperatorKey);
        Assert.Equal(HttpStatusCode.NotFound, (await other.GetAsync($"/api/messages/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await other.GetAsync($"/api/messages/{id}/content")).StatusCode);
        Assert.Empty((await other.GetFromJsonAsync<JsonElement>("/api/messages?recipient=bob@example.com")).GetProperty("items").EnumerateArray());
        Assert.Equal(HttpStatusCode.OK, (await operatorClient.GetAsync($"/api/messages/{id}")).StatusCode);
        var byClient = await operatorClient.GetFromJsonAsync<JsonElement>("/api/messages?client=tests&limit=1");
        Assert.Single(byClient.GetProperty("items").EnumerateArray());
        var next = byClient.GetProperty("next").GetString();
        var second = await operatorClient.GetFromJsonAsync<JsonElement>($"/api/messages?client=tests&limit=1&cursor={next}");
        Assert.Equal(id, second.GetProperty("items")[0].GetProperty("id").GetString()); // the older of the two
    }

    [Fact]
    public async Task Every_webhook_delivery_about_a_message_and_a_replay_by_whom_are_in_its_timeline()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var calls = 0;
        receiver.Respond = _ => Task.FromResult(Interlocked.Increment(ref calls) == 1 ? 500 : 200); // the first try fails
        await using var pipeline = await Pipeline.StartAsync(configure: s =>
        {
            s[$"Clients:{TestClients.Name}:Webhook:Url"] = receiver.Url("/tests");
            s[$"Clients:{TestClients.Name}:Webhook:Secret"] = Notifications.Core.Clients.WebhookSecret.New();
            for (var i = 0; i < 5; i++)
                s[$"Webhooks:Delays:{i}"] = "00:00:00.300";
        });
        var id = await SendAsync(pipeline.Http, new { to = new[] { "bob@example.com" }, subject = "with callbacks", text = "t" });

        var message = await MessageWhenAsync(pipeline.Http, id, m => m.GetProperty("events").EnumerateArray()
            .Count(e => e.GetProperty("type").GetString() == "webhook") >= 2, "both tries of the email.sent callback in the log");
        var webhooks = message.GetProperty("events").EnumerateArray().Where(e => e.GetProperty("type").GetString() == "webhook").ToList();
        Assert.Equal([500, 200], webhooks.Select(w => w.GetProperty("httpStatus").GetInt32()));
        Assert.Equal([1, 2], webhooks.Select(w => w.GetProperty("attempt").GetInt32()));
        Assert.All(webhooks, w => Assert.Equal("email.sent", w.GetProperty("event").GetString()));
        Assert.Equal(["failed", "delivered"], webhooks.Select(w => w.GetProperty("outcome").GetString()));
    }

    [Theory]
    [InlineData("colour=red", "colour")]
    [InlineData("since=yesterday", "since")]
    [InlineData("until=2026-13-01T00:00:00Z", "until")]
    [InlineData("limit=0", "limit")]
    [InlineData("limit=501", "limit")]
    [InlineData("recipient=not-an-address", "recipient")]
    [InlineData("status=lost", "status")]
    [InlineData("cursor=MTIzfGFiY3xkZWFkYmVlZg", "cursor")]
    [InlineData("client=other", "client")]
    public async Task A_bad_search_is_a_400_that_names_the_filter(string query, string named)
    {
        await using var pipeline = await Pipeline.StartAsync(worker: false);
        using var response = await pipeline.Http.GetAsync($"/api/messages?{query}");
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True(problem.GetProperty("errors").TryGetProperty(named, out _), problem.ToString());
    }

    [Fact]
    public async Task A_cursor_given_for_other_filters_or_changed_by_hand_is_refused()
    {
        await using var pipeline = await Pipeline.StartAsync();
        await SendAsync(pipeline.Http, new { to = new[] { "bob@example.com" }, subject = "one", text = "t" });
        await SendAsync(pipeline.Http, new { to = new[] { "bob@example.com" }, subject = "two", text = "t" });
        var page = await Eventually.ReturnsAsync(() => pipeline.Http.GetFromJsonAsync<JsonElement>("/api/messages?recipient=bob@example.com&limit=1"),
            p => p.GetProperty("next").ValueKind == JsonValueKind.String, "a first page with a next");
        var cursor = page.GetProperty("next").GetString()!;
        var changed = cursor[..^2] + (cursor[^2] == 'A' ? "B" : "A") + cursor[^1];

        Assert.Equal(HttpStatusCode.OK, (await pipeline.Http.GetAsync($"/api/messages?recipient=bob@example.com&limit=1&cursor={cursor}")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await pipeline.Http.GetAsync($"/api/messages?recipient=carol@example.com&cursor={cursor}")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await pipeline.Http.GetAsync($"/api/messages?recipient=bob@example.com&cursor={changed}")).StatusCode);
    }

    [Fact]
    public async Task With_the_log_store_down_searches_answer_503_and_mail_is_still_sent_and_logged_once_it_is_back()
    {
        var down = new SwitchableLog();
        await using var pipeline = await Pipeline.StartAsync(
            workerServices: services => services.Decorate<IMessageLog>(inner => down.Wrap(inner)),
            apiServices: services => services.Decorate<IMessageLog>(inner => down.Wrap(inner)));
        down.Down = true;
        var id = await SendAsync(pipeline.Http, new { to = new[] { "bob@example.com" }, subject = "while the log is down", text = "t" });
        await Eventually.TrueAsync(() => pipeline.Relay.AcceptedJobIds.Contains(id), "the mail, sent while the log is down");
        using var search = await pipeline.Http.GetAsync("/api/messages?recipient=bob@example.com");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, search.StatusCode);

        down.Down = false;
        var message = await MessageWhenAsync(pipeline.Http, id, m => m.GetProperty("status").GetString() == "sent", "the entries written once the store is back");
        Assert.Equal(["accepted", "attempt", "sent"], Types(message));
    }

    [Fact]
    public async Task An_operators_erasure_forgets_the_address_in_the_log_the_statuses_and_the_dead_letters_keeps_it_suppressed_and_repeats_as_zeros()
    {
        await using var pipeline = await Pipeline.StartAsync(configure: TwoMoreClients);
        pipeline.Relay.RecipientRule = _ => TestRelay.Permanent("5.7.1 refused by policy"); // refused whole (not a hard bounce): a dead letter naming eve
        var dead = await SendAsync(pipeline.Http, new { to = new[] { "gone@example.com" }, cc = new[] { "eve@example.com" }, subject = "dead", text = "t" });
        await MessageWhenAsync(pipeline.Http, dead, m => m.GetProperty("status").GetString() == "dead", "the refused mail dead-lettered");
        pipeline.Relay.RecipientRule = null;
        var alone = await SendAsync(pipeline.Http, new { to = new[] { "eve@example.com" }, subject = "only eve", text = "t" });
        var shared = await SendAsync(pipeline.Http, new { to = new[] { "bob@example.com" }, cc = new[] { "Eve@Example.com" }, subject = "both", text = "t" });
        await MessageWhenAsync(pipeline.Http, shared, m => m.GetProperty("status").GetString() == "sent", "the shared mail sent");
        await MessageWhenAsync(pipeline.Http, alone, m => m.GetProperty("status").GetString() == "sent", "eve's mail sent");
        using var operatorClient = pipeline.NewClient(OperatorKey);
        using (var put = await operatorClient.PutAsJsonAsync("/api/suppressions/eve@example.com", new { reason = "asked us to" }))
            Assert.True(put.IsSuccessStatusCode);

        using var refused = await pipeline.Http.PostAsJsonAsync("/api/erasures", new { address = "eve@example.com" });
        using var first = await operatorClient.PostAsJsonAsync("/api/erasures", new { address = "EVE@example.com" });
        var removed = await first.Content.ReadFromJsonAsync<JsonElement>();
        using var second = await operatorClient.PostAsJsonAsync("/api/erasures", new { address = "eve@example.com" });
        var again = await second.Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.True(removed.GetProperty("messages").GetInt32() >= 2, removed.ToString());
        Assert.True(removed.GetProperty("statuses").GetInt32() >= 1, removed.ToString());
        Assert.Equal(1, removed.GetProperty("deadLetters").GetInt32());
        Assert.Equal(0u, await pipeline.Queues.CountAsync(pipeline.Names.DeadQueue));
        Assert.Equal(0, again.GetProperty("messages").GetInt32());
        Assert.Equal(0, again.GetProperty("statuses").GetInt32());
        Assert.Equal(0, again.GetProperty("deadLetters").GetInt32());
        Assert.Equal(HttpStatusCode.NotFound, (await pipeline.Http.GetAsync($"/api/messages/{alone}")).StatusCode);
        var sharedNow = await pipeline.Http.GetFromJsonAsync<JsonElement>($"/api/messages/{shared}");
        Assert.True(!sharedNow.ToString().Contains("eve@", StringComparison.OrdinalIgnoreCase), sharedNow.ToString());
        Assert.Contains("bob@example.com", sharedNow.ToString());
        Assert.DoesNotContain("eve@", (await pipeline.Http.GetStringAsync($"/api/emails/{shared}")), StringComparison.OrdinalIgnoreCase);
        Assert.Empty((await operatorClient.GetFromJsonAsync<JsonElement>("/api/messages?recipient=eve@example.com")).GetProperty("items").EnumerateArray());
        Assert.Equal(HttpStatusCode.OK, (await operatorClient.GetAsync("/api/suppressions/eve@example.com")).StatusCode); // still suppressed
    }

    [Fact]
    public async Task An_erasure_without_an_address_is_a_400()
    {
        await using var pipeline = await Pipeline.StartAsync(worker: false, configure: TwoMoreClients);
        using var operatorClient = pipeline.NewClient(OperatorKey);
        using var missing = await operatorClient.PostAsJsonAsync("/api/erasures", new { who = "eve" });
        using var garbage = await operatorClient.PostAsync("/api/erasures", new StringContent("{not json", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, garbage.StatusCode);
    }

    /// <summary>The log's store, switched off and on by the test: while off, every call fails as a store that is away does.</summary>
    private sealed class SwitchableLog
    {
        public volatile bool Down;

        public IMessageLog Wrap(IMessageLog inner) => new Switched(inner, this);

        private sealed class Switched(IMessageLog inner, SwitchableLog owner) : IMessageLog
        {
            private T Up<T>(T value) => owner.Down ? throw new TimeoutException("the log store is down (test)") : value;
            public string Describe() => inner.Describe();
            public Task InitializeAsync(CancellationToken c) => inner.InitializeAsync(c);
            public Task WriteAsync(IReadOnlyList<LogEntry> e, CancellationToken c) => Up(inner).WriteAsync(e, c);
            public Task<MessagePage> SearchAsync(MessageQuery q, CancellationToken c) => Up(inner).SearchAsync(q, c);
            public Task<LoggedMessageView?> GetAsync(string id, string? client, CancellationToken c) => Up(inner).GetAsync(id, client, c);
            public Task<ContentLookup> GetContentAsync(string id, string? client, CancellationToken c) => Up(inner).GetContentAsync(id, client, c);
            public Task<int> EraseAsync(string a, CancellationToken c) => Up(inner).EraseAsync(a, c);
            public Task<PurgeResult> PurgeAsync(DateTimeOffset now, CancellationToken c) => Up(inner).PurgeAsync(now, c);
        }
    }
}
