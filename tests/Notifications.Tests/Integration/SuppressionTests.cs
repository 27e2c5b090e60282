using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Notifications.Core.Clients;
using Notifications.Tests.Infrastructure;
using SmtpServer.Protocol;
using Xunit.Abstractions;

namespace Notifications.Tests.Integration;

/// <summary>Per-recipient outcomes and the suppression list, against a relay scripted per recipient.</summary>
public sealed class SuppressionTests(ITestOutputHelper output)
{
    private static SmtpResponse UserUnknown() => new(SmtpReplyCode.MailboxUnavailable, "5.1.1 <gone@example.com>: user unknown");

    [Fact]
    public async Task A_recipient_refused_with_550_5_1_1_is_left_out_the_others_get_it_and_the_address_is_suppressed()
    {
        await using var pipeline = await Pipeline.StartAsync();
        pipeline.Relay.RecipientRule = address => address == "gone@example.com" ? UserUnknown() : null;

        var id = await Jobs.PostAndGetIdAsync(pipeline.Http,
            new { to = new[] { "alice@example.com", "gone@example.com" }, cc = new[] { "carol@example.com" }, subject = "Invoice", text = "attached" });

        var status = await SentStatusAsync(pipeline, id);
        var mail = Assert.Single(pipeline.Relay.Accepted);
        Assert.Equal(["alice@example.com", "carol@example.com"], mail.Envelope.Order());
        Assert.Equal(3, mail.Message.To.Count + mail.Message.Cc.Count); // the headers stay as the caller wrote them
        var rejected = status.GetProperty("recipients").GetProperty("rejected").EnumerateArray().Single();
        Assert.Equal("gone@example.com", rejected.GetProperty("address").GetString());
        Assert.StartsWith("550 5.1.1", rejected.GetProperty("reply").GetString());
        var entry = await pipeline.Http.GetFromJsonAsync<JsonElement>("/api/suppressions/gone@example.com");
        Assert.Equal(("bounce", "tests"), (entry.GetProperty("source").GetString(), entry.GetProperty("client").GetString()));
    }

    [Fact]
    public async Task The_next_job_to_a_suppressed_address_alone_is_suppressed_and_the_relay_sees_no_transaction()
    {
        await using var pipeline = await Pipeline.StartAsync();
        pipeline.Relay.RecipientRule = address => address == "gone@example.com" ? UserUnknown() : null;
        var first = await Jobs.PostAndGetIdAsync(pipeline.Http, new { to = new[] { "alice@example.com", "gone@example.com" }, subject = "one", text = "t" });
        await SentStatusAsync(pipeline, first);
        var askedBefore = pipeline.Relay.RecipientsAsked.Count;
        var attemptsBefore = pipeline.Relay.Attempts.Count;

        var second = await Jobs.PostAndGetIdAsync(pipeline.Http, new { to = new[] { "Gone <gone@EXAMPLE.com>" }, subject = "two", text = "t" });

        var status = await Eventually.ReturnsAsync(async () => await pipeline.Http.GetFromJsonAsync<JsonElement>($"/api/emails/{second}"),
            s => s.GetProperty("status").GetString() == "suppressed", "status suppressed");
        Assert.Equal(["gone@example.com"], status.GetProperty("recipients").GetProperty("suppressed").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(askedBefore, pipeline.Relay.RecipientsAsked.Count);
        Assert.Equal(attemptsBefore, pipeline.Relay.Attempts.Count);
        Assert.Equal(0u, await pipeline.Queues.CountAsync(pipeline.Names.DeadQueue));
    }

    [Fact]
    public async Task A_policy_rejection_5_7_1_is_listed_as_rejected_but_not_suppressed()
    {
        await using var pipeline = await Pipeline.StartAsync();
        pipeline.Relay.RecipientRule = address => address == "strict@example.com"
            ? new SmtpResponse(SmtpReplyCode.MailboxUnavailable, "5.7.1 message rejected by policy")
            : null;

        var id = await Jobs.PostAndGetIdAsync(pipeline.Http, new { to = new[] { "alice@example.com", "strict@example.com" }, subject = "s", text = "t" });

        var status = await SentStatusAsync(pipeline, id);
        Assert.Equal("strict@example.com", status.GetProperty("recipients").GetProperty("rejected")[0].GetProperty("address").GetString());
        using var lookup = await pipeline.Http.GetAsync("/api/suppressions/strict@example.com");
        Assert.Equal(HttpStatusCode.NotFound, lookup.StatusCode);
    }

    [Fact]
    public async Task A_recipient_refused_for_now_451_is_retried_alone_by_a_follow_up_job_and_everyone_is_mailed_once()
    {
        await using var pipeline = await Pipeline.StartAsync();
        var refusals = 0;
        pipeline.Relay.RecipientRule = address => address == "busy@example.com" && Interlocked.Increment(ref refusals) == 1
            ? new SmtpResponse((SmtpReplyCode)450, "4.2.1 mailbox busy, try later")
            : null;

        var id = await Jobs.PostAndGetIdAsync(pipeline.Http,
            new { to = new[] { "alice@example.com", "busy@example.com" }, bcc = new[] { "audit@example.com" }, subject = "s", text = "t" });

        var status = await SentStatusAsync(pipeline, id);
        var deferred = status.GetProperty("recipients").GetProperty("deferred")[0];
        var followUp = deferred.GetProperty("followUp").GetString()!;
        Assert.Equal(id + "-r1", followUp);
        // Its status appears once the follow-up is queued, a moment after the parent's "sent": 404 until then.
        var followUpStatus = await Eventually.ReturnsAsync(async () => await pipeline.Http.GetStringAsync($"/api/emails/{followUp}")
                .ContinueWith(t => t.IsCompletedSuccessfully ? JsonDocument.Parse(t.Result).RootElement : default),
            s => s.ValueKind == JsonValueKind.Object && s.GetProperty("status").GetString() == "sent", "the follow-up job sent");
        Assert.Equal(2, followUpStatus.GetProperty("attempt").GetInt32());
        var envelopes = pipeline.Relay.Accepted.SelectMany(m => m.Envelope).Order().ToList();
        output.WriteLine($"mails: {string.Join(" | ", pipeline.Relay.Accepted.Select(m => string.Join(",", m.Envelope)))}");
        Assert.Equal(["alice@example.com", "audit@example.com", "busy@example.com"], envelopes);
        Assert.Equal(0u, await pipeline.Queues.CountAsync(pipeline.Names.DeadQueue));
    }

    [Fact]
    public async Task A_job_whose_every_recipient_bounces_is_permanent_as_before_and_its_addresses_are_suppressed()
    {
        await using var pipeline = await Pipeline.StartAsync();
        pipeline.Relay.RecipientRule = _ => UserUnknown();

        var id = await Jobs.PostAndGetIdAsync(pipeline.Http, new { to = new[] { "gone@example.com", "gone2@example.com" }, subject = "s", text = "t" });

        var status = await Eventually.ReturnsAsync(async () => await pipeline.Http.GetFromJsonAsync<JsonElement>($"/api/emails/{id}"),
            s => s.GetProperty("status").GetString() == "dead", "status dead");
        Assert.Equal("permanent", status.GetProperty("kind").GetString());
        Assert.Contains("every recipient was refused", status.GetProperty("error").GetString());
        foreach (var address in new[] { "gone@example.com", "gone2@example.com" })
            Assert.Equal(HttpStatusCode.OK, (await pipeline.Http.GetAsync($"/api/suppressions/{address}")).StatusCode);
    }

    [Fact]
    public async Task Manual_put_get_list_delete_round_trip_is_idempotent_and_answers_garbage_with_400_and_unknown_with_404()
    {
        await using var pipeline = await Pipeline.StartAsync(worker: false);

        using var created = await pipeline.Http.PutAsJsonAsync("/api/suppressions/Bob@Example.COM", new { reason = "asked to stop" });
        using var again = await pipeline.Http.PutAsJsonAsync("/api/suppressions/bob@example.com", new { reason = "asked twice" });
        var entry = await pipeline.Http.GetFromJsonAsync<JsonElement>("/api/suppressions/Bob@example.com");
        using var again2 = await pipeline.Http.PutAsJsonAsync("/api/suppressions/Bob@example.com", new { reason = "asked twice" });
        var list = await pipeline.Http.GetFromJsonAsync<JsonElement>("/api/suppressions?source=manual&limit=10");

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal(HttpStatusCode.Created, again.StatusCode); // another address: bob@ is not Bob@
        Assert.Equal(HttpStatusCode.OK, again2.StatusCode);
        Assert.Equal(("Bob@example.com", "manual", "asked to stop"),
            (entry.GetProperty("address").GetString(), entry.GetProperty("source").GetString(), entry.GetProperty("reason").GetString()));
        Assert.Equal(["Bob@example.com", "bob@example.com"], list.GetProperty("items").EnumerateArray().Select(e => e.GetProperty("address").GetString()));
        Assert.Equal(JsonValueKind.Null, list.GetProperty("next").ValueKind);

        Assert.Equal(HttpStatusCode.NoContent, (await pipeline.Http.DeleteAsync("/api/suppressions/Bob@example.com")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await pipeline.Http.DeleteAsync("/api/suppressions/Bob@example.com")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await pipeline.Http.PutAsJsonAsync("/api/suppressions/not-an-address", new { reason = "x" })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await pipeline.Http.PutAsJsonAsync("/api/suppressions/a@example.com", new { reason = "" })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await pipeline.Http.PutAsync("/api/suppressions/a@example.com", Jobs.Json("{\"reason\":\"x\",\"reason\":\"y\"}"))).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await pipeline.Http.PutAsync("/api/suppressions/a@example.com", Jobs.Json("[1,2"))).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await pipeline.Http.GetAsync("/api/suppressions?limit=0")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await pipeline.Http.GetAsync("/api/suppressions?source=spam")).StatusCode);
    }

    [Fact]
    public async Task The_list_pages_by_cursor_until_next_is_null()
    {
        await using var pipeline = await Pipeline.StartAsync(worker: false);
        for (var i = 0; i < 7; i++)
            (await pipeline.Http.PutAsJsonAsync($"/api/suppressions/user{i}@paging.test", new { reason = "test" })).EnsureSuccessStatusCode();

        var seen = new List<string>();
        string? cursor = null;
        do
        {
            var page = await pipeline.Http.GetFromJsonAsync<JsonElement>("/api/suppressions?limit=3" + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor)));
            seen.AddRange(page.GetProperty("items").EnumerateArray().Select(e => e.GetProperty("address").GetString()!));
            cursor = page.GetProperty("next").GetString();
        }
        while (cursor is not null);

        Assert.Equal(Enumerable.Range(0, 7).Select(i => $"user{i}@paging.test"), seen.Where(a => a.EndsWith("@paging.test", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_clients_entry_holds_back_only_its_own_mail_another_client_neither_sees_nor_is_stopped_by_it_and_an_operator_sees_all()
    {
        var shopKey = TestClients.NewKey();
        var opsKey = TestClients.NewKey();
        await using var pipeline = await Pipeline.StartAsync(configure: s =>
        {
            s["Clients:shop:KeyHashes:0"] = ClientRegistry.HashOf(shopKey);
            s["Clients:shop:AllowedFrom:0"] = "shop@example.com";
            s["Clients:ops:KeyHashes:0"] = ClientRegistry.HashOf(opsKey);
            s["Clients:ops:AllowedFrom:0"] = "ops@example.com";
            s["Clients:ops:Operator"] = "true";
        });
        using var shop = pipeline.NewClient(shopKey);
        using var ops = pipeline.NewClient(opsKey);
        (await pipeline.Http.PutAsJsonAsync("/api/suppressions/mine@example.com", new { reason = "tests' own" })).EnsureSuccessStatusCode();

        // Shop knows nothing of it, adds its own without a 409, and its mail to the address still goes.
        Assert.Equal(HttpStatusCode.NotFound, (await shop.GetAsync("/api/suppressions/mine@example.com")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await shop.DeleteAsync("/api/suppressions/mine@example.com")).StatusCode);
        Assert.Empty((await shop.GetFromJsonAsync<JsonElement>("/api/suppressions")).GetProperty("items").EnumerateArray());
        var shopMail = await Jobs.PostAndGetIdAsync(shop, new { from = "shop@example.com", to = new[] { "mine@example.com" }, subject = "s", text = "t" });
        var testsMail = await Jobs.PostAndGetIdAsync(pipeline.Http, new { to = new[] { "mine@example.com" }, subject = "s", text = "t" });
        await Eventually.TrueAsync(() => pipeline.Relay.AcceptedJobIds.Contains(shopMail), "shop's mail sent");
        await Eventually.ReturnsAsync(async () => (await pipeline.Http.GetFromJsonAsync<JsonElement>($"/api/emails/{testsMail}")).GetProperty("status").GetString(),
            status => status == "suppressed", "tests' own mail held back");
        Assert.Equal(HttpStatusCode.Created, (await shop.PutAsJsonAsync("/api/suppressions/mine@example.com", new { reason = "shop's" })).StatusCode);
        var shops = await shop.GetFromJsonAsync<JsonElement>("/api/suppressions/mine@example.com");
        Assert.Equal(("client", "shop's", "shop"), (shops.GetProperty("scope").GetString(), shops.GetProperty("reason").GetString(), shops.GetProperty("client").GetString()));
        Assert.Single(shops.GetProperty("entries").EnumerateArray());

        // The operator sees both, removes one by naming its client, and adds one for the whole deployment.
        var all = await ops.GetFromJsonAsync<JsonElement>("/api/suppressions/mine@example.com");
        Assert.Equal(["shop", "tests"], all.GetProperty("entries").EnumerateArray().Select(e => e.GetProperty("client").GetString()).Order());
        Assert.Equal(HttpStatusCode.NoContent, (await ops.DeleteAsync("/api/suppressions/mine@example.com?list=*&client=shop")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await shop.GetAsync("/api/suppressions/mine@example.com")).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await ops.PutAsJsonAsync("/api/suppressions/mine@example.com", new { reason = "legal hold" })).StatusCode);
        var held = await shop.GetFromJsonAsync<JsonElement>("/api/suppressions/mine@example.com");
        Assert.Equal(("deployment", "legal hold"), (held.GetProperty("scope").GetString(), held.GetProperty("reason").GetString()));
        Assert.Equal(HttpStatusCode.NotFound, (await shop.DeleteAsync("/api/suppressions/mine@example.com")).StatusCode); // not shop's to lift
        Assert.Equal(HttpStatusCode.Unauthorized, (await pipeline.NewClient(null).GetAsync("/api/suppressions")).StatusCode);
    }

    [Fact]
    public async Task With_the_store_down_a_job_is_still_sent_to_every_recipient()
    {
        // A Redis store nobody listens on: the suppression lookup fails, and must not fail the job.
        await using var pipeline = await Pipeline.StartAsync(configure: s =>
        {
            s["Store:Kind"] = "Redis";
            s["Store:Redis"] = $"127.0.0.1:{FreePort.Next()},connectTimeout=500";
        });

        using var response = await pipeline.Http.PostAsJsonAsync("/api/send-email", new { to = new[] { "alice@example.com", "bob@example.com" }, subject = "s", text = "t" });

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        await Eventually.TrueAsync(() => pipeline.Relay.Accepted.Count == 1, "the mail", TimeSpan.FromSeconds(30));
        Assert.Equal(["alice@example.com", "bob@example.com"], pipeline.Relay.Accepted[0].Envelope.Order());
    }

    private static Task<JsonElement> SentStatusAsync(Pipeline pipeline, string id) =>
        Eventually.ReturnsAsync(async () => await pipeline.Http.GetFromJsonAsync<JsonElement>($"/api/emails/{id}"),
            s => s.GetProperty("status").GetString() == "sent", $"job {id} sent");
}
