using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Notifications.Core.Webhooks;
using Notifications.Tests.Infrastructure;
using Notifications.Core.Clients;

namespace Notifications.Tests.Integration;

/// <summary>
/// One-click unsubscribe (RFC 8058): list mail carries List-Id and a signed List-Unsubscribe link; one POST of what Gmail
/// and Yahoo post takes the address off that client's list, with nothing else; a GET never does.
/// </summary>
public sealed class UnsubscribeTests
{
    private static readonly string Secret = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
    private static readonly string HookSecret = WebhookSecret.New();

    private static Task<Pipeline> StartAsync(WebhookReceiver? receiver = null, Action<Dictionary<string, string?>>? configure = null) =>
        Pipeline.StartAsync(configure: s =>
        {
            s["Unsubscribe:BaseUrl"] = "https://mail.example.com/";
            s["Unsubscribe:Secret"] = Secret;
            if (receiver is not null)
            {
                s[$"Clients:{TestClients.Name}:Webhook:Url"] = receiver.Url("/tests");
                s[$"Clients:{TestClients.Name}:Webhook:Secret"] = HookSecret;
            }
            configure?.Invoke(s);
        });

    private static object ListMail(string to = "Bob <bob@example.org>", string list = "digest") =>
        new { to = new[] { to }, subject = "This week", text = "News.", html = "<p>News.</p>", list };

    /// <summary>Sends a list mail and answers the path of its unsubscribe link.</summary>
    private static async Task<(string Id, string Path, TestRelay.ReceivedMail Mail)> SendListMailAsync(Pipeline pipeline, string to = "Bob <bob@example.org>",
        string list = "digest")
    {
        var id = await Jobs.PostAndGetIdAsync(pipeline.Http, ListMail(to, list));
        await Eventually.TrueAsync(() => pipeline.Relay.AcceptedJobIds.Contains(id), "the list mail");
        var mail = pipeline.Relay.Accepted.Single(m => m.Message.MessageId!.StartsWith(id, StringComparison.Ordinal));
        var link = mail.Message.Headers["List-Unsubscribe"]!.Trim('<', '>');
        Assert.StartsWith("https://mail.example.com/unsubscribe/", link);
        return (id, new Uri(link).AbsolutePath, mail);
    }

    private static async Task<JsonElement> StatusAsync(Pipeline pipeline, string id, string status) =>
        await Eventually.ReturnsAsync(async () => await pipeline.Http.GetFromJsonAsync<JsonElement>($"/api/emails/{id}"),
            s => s.GetProperty("status").GetString() == status, $"status {status}");

    [Fact]
    public async Task A_list_mail_carries_List_Id_and_a_one_click_link_signed_by_DKIM_and_the_link_shows_nothing_of_the_address()
    {
        using var keys = new DkimTestKeys();
        await using var pipeline = await StartAsync(configure: keys.Configure);

        var (_, path, mail) = await SendListMailAsync(pipeline);

        Assert.Equal($"<digest.{TestClients.Name}.example.com>", mail.Message.Headers["List-Id"]);
        Assert.Equal("List-Unsubscribe=One-Click", mail.Message.Headers["List-Unsubscribe-Post"]);
        var token = path["/unsubscribe/".Length..];
        Assert.InRange(token.Length, 40, 199);
        Assert.DoesNotContain("bob", token, StringComparison.OrdinalIgnoreCase);
        Assert.Matches("^[A-Za-z0-9_-]+$", token);
        var signature = mail.Message.Headers.First(h => h.Id == MimeKit.HeaderId.DkimSignature).Value.Replace(" ", "").ToLowerInvariant();
        Assert.Contains("list-unsubscribe:list-unsubscribe-post", signature.Replace("\r\n", "").Replace("\t", ""));
        Assert.All(await DkimVerifiers.Independent(mail.Raw, keys.Records), s => Assert.True(s.Verified, s.Selector));
    }

    [Theory]
    [InlineData("form")]
    [InlineData("multipart")]
    public async Task One_POST_of_what_mail_providers_post_unsubscribes_without_key_cookie_or_redirect_and_holds_back_only_that_list(string body)
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var pipeline = await StartAsync(receiver);
        await using var subscriber = await SampleSubscriber.StartAsync(pipeline.Settings["RabbitMq:Uri"]!, pipeline.Names.Prefix);
        var (_, path, _) = await SendListMailAsync(pipeline);
        using var provider = pipeline.NewClient(key: null); // no key, no cookie
        HttpContent content = body == "form"
            ? new FormUrlEncodedContent([new("List-Unsubscribe", "One-Click")])
            : new MultipartFormDataContent { { new StringContent("One-Click"), "List-Unsubscribe" } };

        using var answer = await provider.PostAsync(path, content);

        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Null(answer.Headers.Location);
        Assert.DoesNotContain("bob@", await answer.Content.ReadAsStringAsync());
        var entry = await pipeline.Http.GetFromJsonAsync<JsonElement>("/api/suppressions/bob@example.org?list=digest");
        Assert.Equal(("unsubscribe", "digest", "unsubscribed"),
            (entry.GetProperty("source").GetString(), entry.GetProperty("list").GetString(), entry.GetProperty("reason").GetString()));
        var byAddress = await pipeline.Http.GetFromJsonAsync<JsonElement>("/api/suppressions/bob@example.org"); // no ?list=: every entry
        Assert.Equal(("list", "digest"), (byAddress.GetProperty("scope").GetString(), byAddress.GetProperty("list").GetString()));
        await Eventually.TrueAsync(() => receiver.Received.Any(c => c.Type == WebhookEvent.Unsubscribed), "email.unsubscribed");
        var hook = receiver.Received.Single(c => c.Type == WebhookEvent.Unsubscribed);
        Assert.Equal(("digest", "bob@example.org"), (hook.Data.GetProperty("list").GetString(), hook.Data.GetProperty("recipients")[0].GetString()));
        var left = await Eventually.ReturnsAsync(() => Task.FromResult(subscriber.Received.OfType<Contracts.EmailUnsubscribed>().FirstOrDefault()),
            e => e is not null, "EmailUnsubscribed");
        Assert.Equal(("bob@example.org", "digest", TestClients.Name), (left!.Address, left.List, left.Client));

        var again = await Jobs.PostAndGetIdAsync(pipeline.Http, ListMail());
        var otherList = await Jobs.PostAndGetIdAsync(pipeline.Http, ListMail(list: "offers"));
        var receipt = await Jobs.PostAndGetIdAsync(pipeline.Http, new { to = new[] { "bob@example.org" }, subject = "Receipt", text = "Thanks." });

        var held = await StatusAsync(pipeline, again, "suppressed");
        Assert.Equal("unsubscribed", held.GetProperty("error").GetString());
        await StatusAsync(pipeline, otherList, "sent");
        await StatusAsync(pipeline, receipt, "sent");
        Assert.DoesNotContain(again, pipeline.Relay.AcceptedJobIds);
    }

    [Fact]
    public async Task Repeating_the_POST_is_200_and_changes_nothing_and_deleting_the_entry_subscribes_again()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var pipeline = await StartAsync(receiver);
        var (_, path, _) = await SendListMailAsync(pipeline);
        using var provider = pipeline.NewClient(key: null);

        using var first = await provider.PostAsync(path, new FormUrlEncodedContent([new("List-Unsubscribe", "One-Click")]));
        var before = await pipeline.Http.GetStringAsync("/api/suppressions/bob@example.org?list=digest");
        using var second = await provider.PostAsync(path, new StringContent(""));
        var after = await pipeline.Http.GetStringAsync("/api/suppressions/bob@example.org?list=digest");
        await Eventually.TrueAsync(() => receiver.Received.Any(c => c.Type == WebhookEvent.Unsubscribed), "email.unsubscribed");
        await Eventually.NeverAsync(() => receiver.Received.Count(c => c.Type == WebhookEvent.Unsubscribed) > 1, "a second email.unsubscribed",
            TimeSpan.FromMilliseconds(500));

        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK), (first.StatusCode, second.StatusCode));
        Assert.Equal(before, after);
        Assert.Single(receiver.Received, c => c.Type == WebhookEvent.Unsubscribed);

        using var deleted = await pipeline.Http.DeleteAsync("/api/suppressions/bob@example.org?list=digest");
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        var resubscribed = await Jobs.PostAndGetIdAsync(pipeline.Http, ListMail());
        await StatusAsync(pipeline, resubscribed, "sent");
    }

    [Fact]
    public async Task A_GET_shows_a_button_that_posts_and_never_unsubscribes()
    {
        await using var pipeline = await StartAsync();
        var (_, path, _) = await SendListMailAsync(pipeline);
        using var scanner = pipeline.NewClient(key: null);

        using var page = await scanner.GetAsync(path);
        using var twice = await scanner.GetAsync(path);

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains("<form method=\"post\">", html);
        Assert.Contains("<button", html);
        Assert.DoesNotContain("<script", html);
        Assert.Contains("no-store", page.Headers.CacheControl!.ToString());
        using var lookup = await pipeline.Http.GetAsync("/api/suppressions/bob@example.org?list=digest");
        Assert.Equal(HttpStatusCode.NotFound, lookup.StatusCode);
    }

    [Fact]
    public async Task Tampered_truncated_foreign_and_huge_tokens_are_404_of_the_same_size_and_change_nothing()
    {
        await using var pipeline = await StartAsync();
        var (_, path, _) = await SendListMailAsync(pipeline);
        var token = path["/unsubscribe/".Length..];
        var tampered = token[..10] + (token[10] == 'A' ? 'B' : 'A') + token[11..];
        string[] bad =
        [
            "/unsubscribe/" + tampered,
            "/unsubscribe/" + token[..^4],
            "/unsubscribe/" + new string('A', 120),
            "/unsubscribe/not-base64!!",
            "/unsubscribe/" + new string('x', 4_000),
        ];
        using var anonymous = pipeline.NewClient(key: null);
        using var good = await anonymous.GetAsync(path);
        var goodLength = (await good.Content.ReadAsByteArrayAsync()).Length;

        foreach (var url in bad)
        {
            using var get = await anonymous.GetAsync(url);
            using var post = await anonymous.PostAsync(url, new FormUrlEncodedContent([new("List-Unsubscribe", "One-Click")]));
            Assert.Equal((HttpStatusCode.NotFound, HttpStatusCode.NotFound), (get.StatusCode, post.StatusCode));
            Assert.Equal(goodLength, (await post.Content.ReadAsByteArrayAsync()).Length);
        }
        var list = await pipeline.Http.GetFromJsonAsync<JsonElement>("/api/suppressions");
        Assert.Equal(0, list.GetProperty("items").GetArrayLength());
    }

    [Fact]
    public async Task The_public_endpoints_are_rate_limited_per_remote_address()
    {
        await using var pipeline = await StartAsync(configure: s => s["Unsubscribe:PerAddressPerMinute"] = "5");
        using var anonymous = pipeline.NewClient(key: null);

        var codes = new List<HttpStatusCode>();
        for (var i = 0; i < 8; i++)
        {
            using var answer = await anonymous.GetAsync("/unsubscribe/" + new string('A', 60));
            codes.Add(answer.StatusCode);
        }

        Assert.Equal(5, codes.Count(c => c == HttpStatusCode.NotFound));
        Assert.Equal(3, codes.Count(c => c == HttpStatusCode.TooManyRequests));
    }

    [Theory]
    [InlineData("{\"to\":[\"a@example.org\",\"b@example.org\"],\"subject\":\"s\",\"text\":\"t\",\"list\":\"digest\"}", "exactly one to")]
    [InlineData("{\"to\":[\"a@example.org\"],\"cc\":[\"b@example.org\"],\"subject\":\"s\",\"text\":\"t\",\"list\":\"digest\"}", "exactly one to")]
    [InlineData("{\"to\":[\"a@example.org\"],\"subject\":\"s\",\"text\":\"t\",\"list\":\"Digest!\"}", "a list name is")]
    [InlineData("{\"to\":[\"a@example.org\"],\"subject\":\"s\",\"text\":\"t\",\"headers\":{\"List-Unsubscribe\":\"<https://evil.example>\"}}", "List-Unsubscribe")]
    public async Task A_list_job_that_is_not_one_is_a_400_and_nothing_is_queued(string json, string problem)
    {
        await using var pipeline = await StartAsync();

        using var answer = await pipeline.Http.PostAsync("/api/send-email", Jobs.Json(json));

        Assert.Equal(HttpStatusCode.BadRequest, answer.StatusCode);
        Assert.Contains(problem, await answer.Content.ReadAsStringAsync());
        Assert.Equal(0u, await pipeline.Queues.CountAsync(pipeline.Names.SendQueue));
    }

    [Fact]
    public async Task Without_Unsubscribe_BaseUrl_a_list_job_is_a_400_naming_the_setting()
    {
        await using var pipeline = await Pipeline.StartAsync(worker: false);

        using var answer = await pipeline.Http.PostAsJsonAsync("/api/send-email", ListMail());

        Assert.Equal(HttpStatusCode.BadRequest, answer.StatusCode);
        Assert.Contains("Unsubscribe:BaseUrl", await answer.Content.ReadAsStringAsync());
    }
}
