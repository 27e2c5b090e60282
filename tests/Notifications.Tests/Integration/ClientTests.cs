using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Notifications.Api;
using Notifications.Core.Clients;
using Notifications.Core.Configuration;
using Notifications.Core.Contract;
using Notifications.Tests.Infrastructure;

namespace Notifications.Tests.Integration;

/// <summary>Clients and keys against the real API and broker: who may send, as whom, how fast, and what each one sees.</summary>
public sealed class ClientTests : IAsyncLifetime
{
    private static readonly string OtherKey = TestClients.NewKey();
    private static readonly string OldKey = TestClients.NewKey();
    private static readonly string NewKey = TestClients.NewKey();
    private static readonly string SlowKey = TestClients.NewKey();
    private Pipeline _pipeline = null!;

    public async Task InitializeAsync() =>
        _pipeline = await Pipeline.StartAsync(worker: false, configure: s =>
        {
            s["Clients:other:KeyHashes:0"] = ClientRegistry.HashOf(OtherKey);
            s["Clients:other:AllowedFrom:0"] = "Other <other@example.com>";
            s["Clients:rotating:KeyHashes:0"] = ClientRegistry.HashOf(OldKey);
            s["Clients:rotating:KeyHashes:1"] = ClientRegistry.HashOf(NewKey);
            s["Clients:rotating:AllowedFrom:0"] = "rotating@example.com";
            s["Clients:slow:KeyHashes:0"] = ClientRegistry.HashOf(SlowKey);
            s["Clients:slow:AllowedFrom:0"] = "slow@example.com";
            s["Clients:slow:RatePerSecond"] = "1";
            s["Clients:slow:Burst"] = "2";
        });

    public async Task DisposeAsync() => await _pipeline.DisposeAsync();

    public static TheoryData<string, string?> RefusedAuthorizations => new()
    {
        { "no key", null },
        { "an unknown key", "Bearer " + TestClients.NewKey() },
        { "a key with whitespace in it", "Bearer ntf_abc def" },
        { "a 10 kB key", "Bearer " + new string('k', 10_000) },
        { "an empty key", "Bearer " },
        { "another scheme", "Basic " + Convert.ToBase64String("tests:secret"u8.ToArray()) },
        { "the key's hash instead of the key", "Bearer " + TestClients.KeyHash },
    };

    [Theory]
    [MemberData(nameof(RefusedAuthorizations))]
    public async Task A_request_without_a_clients_key_gets_401_problem_with_WWW_Authenticate_and_publishes_nothing(string why,
        string? authorization)
    {
        using var http = _pipeline.NewClient(key: null);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/send-email") { Content = JsonContent.Create(Jobs.Valid()) };
        if (authorization is not null)
            request.Headers.TryAddWithoutValidation("Authorization", authorization);

        using var response = await http.SendAsync(request);

        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{why}: {(int)response.StatusCode} {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.StartsWith("Bearer", response.Headers.WwwAuthenticate.ToString());
        if (authorization is { Length: > 7 })
            Assert.DoesNotContain(authorization[7..], body); // the key is never echoed
        Assert.Equal(0u, await _pipeline.Queues.CountAsync(_pipeline.Names.SendQueue));
    }

    [Fact]
    public async Task The_job_carries_its_client_and_its_clients_default_sender()
    {
        using var http = _pipeline.NewClient(OtherKey);

        var id = await Jobs.PostAndGetIdAsync(http, Jobs.Valid());

        var message = (await _pipeline.Queues.WaitAndTakeAsync(_pipeline.Names.SendQueue, 1)).Single();
        Assert.True(JobCodec.TryDecode(message.Body, out var job, out _));
        Assert.Equal((id, "other", "Other <other@example.com>"), (job!.Id, job.Client, job.From));
        Assert.Equal("other", message.Header(JobHeaders.Client));
    }

    [Fact]
    public async Task A_sender_that_is_not_the_clients_gets_403_and_publishes_nothing()
    {
        using var http = _pipeline.NewClient(OtherKey);

        using var response = await http.PostAsJsonAsync("/api/send-email",
            new { to = new[] { "a@example.com" }, from = "billing@example.com", subject = "s", text = "t" });

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("Clients:other:AllowedFrom", await response.Content.ReadAsStringAsync());
        Assert.Equal(0u, await _pipeline.Queues.CountAsync(_pipeline.Names.SendQueue));
    }

    [Fact]
    public async Task Both_keys_of_a_client_work_while_it_rotates()
    {
        using var old = _pipeline.NewClient(OldKey);
        using var fresh = _pipeline.NewClient(NewKey);

        await Jobs.PostAndGetIdAsync(old, Jobs.Valid("with the old key"));
        await Jobs.PostAndGetIdAsync(fresh, Jobs.Valid("with the new key"));

        var jobs = await _pipeline.Queues.WaitAndTakeAsync(_pipeline.Names.SendQueue, 2);
        Assert.All(jobs, m => Assert.Equal("rotating", m.Header(JobHeaders.Client)));
    }

    [Fact]
    public async Task A_jobs_status_answers_only_its_own_client()
    {
        var id = await Jobs.PostAndGetIdAsync(_pipeline.Http, Jobs.Valid());
        using var other = _pipeline.NewClient(OtherKey);
        using var nobody = _pipeline.NewClient(key: null);

        var own = await _pipeline.Http.GetAsync($"/api/emails/{id}");
        var others = await other.GetAsync($"/api/emails/{id}");
        var anonymous = await nobody.GetAsync($"/api/emails/{id}");

        Assert.Equal(HttpStatusCode.OK, own.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, others.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
    }

    [Fact]
    public async Task The_same_Idempotency_Key_from_two_clients_makes_two_jobs()
    {
        var key = Guid.NewGuid().ToString();
        using var other = _pipeline.NewClient(OtherKey);

        var mine = await PostWithKeyAsync(_pipeline.Http, key);
        var theirs = await PostWithKeyAsync(other, key);
        var mineAgain = await PostWithKeyAsync(_pipeline.Http, key);

        Assert.NotEqual(mine, theirs);
        Assert.Equal(mine, mineAgain);
    }

    [Fact]
    public async Task A_client_over_its_rate_gets_429_with_Retry_After_and_RateLimit_headers_and_others_are_not_slowed()
    {
        using var slow = _pipeline.NewClient(SlowKey);
        var body = new { to = new[] { "a@example.com" }, subject = "s", text = "t" };
        var answers = new List<HttpResponseMessage>();
        for (var i = 0; i < 4; i++)
            answers.Add(await slow.PostAsJsonAsync("/api/send-email", body));
        var othersMeanwhile = await _pipeline.Http.PostAsJsonAsync("/api/send-email", Jobs.Valid());

        var refused = answers.Where(r => r.StatusCode == HttpStatusCode.TooManyRequests).ToList();
        Assert.True(refused.Count >= 1, string.Join(", ", answers.Select(r => (int)r.StatusCode)));
        Assert.Equal(HttpStatusCode.Accepted, answers[0].StatusCode);
        var first = refused[0];
        Assert.NotNull(first.Headers.RetryAfter);
        Assert.Equal("2;w=2", first.Headers.GetValues("RateLimit-Policy").Single());
        Assert.StartsWith("limit=2, remaining=0, reset=", first.Headers.GetValues("RateLimit").Single());
        Assert.Equal("application/problem+json", first.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.Accepted, othersMeanwhile.StatusCode);
        var accepted = answers.Count(r => r.StatusCode == HttpStatusCode.Accepted) + 1;
        Assert.Equal((uint)accepted, await _pipeline.Queues.CountAsync(_pipeline.Names.SendQueue)); // nothing for the 429s
        // The exporter answers from a cache for a moment: ask until the count shows.
        await Eventually.ReturnsAsync(() => _pipeline.Http.GetStringAsync("/metrics"),
            m => System.Text.RegularExpressions.Regex.IsMatch(m, "^notifications_api_rate_limited_total\\{[^}]*client=\"slow\"[^}]*\\} [1-9]",
                System.Text.RegularExpressions.RegexOptions.Multiline), "the 429s counted by client");
    }

    [Fact]
    public async Task Health_and_metrics_need_no_key()
    {
        using var nobody = _pipeline.NewClient(key: null);

        Assert.Equal(HttpStatusCode.OK, (await nobody.GetAsync("/health/live")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await nobody.GetAsync("/health/ready")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await nobody.GetAsync("/metrics")).StatusCode);
    }

    [Fact]
    public async Task Keys_required_and_no_client_configured_stops_start_up_with_one_line()
    {
        var settings = new Dictionary<string, string?>(_pipeline.Settings.Where(e => !e.Key.StartsWith("Clients:", StringComparison.Ordinal)));
        await using var api = NotificationsApi.Create([], c => c.AddInMemoryCollection(settings));

        var ex = await Assert.ThrowsAnyAsync<Exception>(() => api.StartAsync());

        var line = StartupFailure.Describe(ex);
        Assert.True(line is not null, ex.ToString());
        Assert.StartsWith("Auth:Required is true but no Clients are configured", line);
        Assert.Contains("scripts/new-key.sh", line);
    }

    [Fact]
    public async Task With_keys_not_required_an_anonymous_caller_sends_as_Email_AllowedFrom_but_a_wrong_key_is_still_401()
    {
        await using var open = await Pipeline.StartAsync(worker: false, configure: s =>
        {
            foreach (var key in s.Keys.Where(k => k.StartsWith("Clients:", StringComparison.Ordinal)).ToList())
                s.Remove(key);
            s["Auth:Required"] = "false";
        });
        using var anonymous = open.NewClient(key: null);
        using var wrong = open.NewClient(TestClients.NewKey());

        var id = await Jobs.PostAndGetIdAsync(anonymous, Jobs.Valid());
        using var refused = await wrong.PostAsJsonAsync("/api/send-email", Jobs.Valid());

        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        var job = (await open.Queues.WaitAndTakeAsync(open.Names.SendQueue, 1)).Single();
        Assert.True(JobCodec.TryDecode(job.Body, out var decoded, out _));
        Assert.Equal((id, (string?)null, "Notifications <no-reply@example.com>"), (decoded!.Id, decoded.Client, decoded.From));
    }

    private static async Task<string> PostWithKeyAsync(HttpClient http, string key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/send-email") { Content = JsonContent.Create(Jobs.Valid()) };
        request.Headers.TryAddWithoutValidation("Idempotency-Key", key);
        using var response = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
    }
}
