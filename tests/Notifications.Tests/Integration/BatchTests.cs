using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Notifications.Core.Contract;
using Notifications.Tests.Infrastructure;

namespace Notifications.Tests.Integration;

/// <summary>Many jobs in one request: each held to the single endpoint's rules, each confirmed before it is reported queued.</summary>
public sealed class BatchTests
{
    [Fact]
    public async Task A_batch_of_500_with_3_invalid_items_queues_497_answers_in_order_and_publishes_nothing_for_the_3()
    {
        await using var pipeline = await Pipeline.StartAsync(worker: false);
        var items = Enumerable.Range(0, 500).Select(i => (object)new { to = new[] { $"user{i}@example.com" }, subject = $"Batch {i}", text = "t" }).ToList();
        items[7] = new { to = new[] { "not an address" }, subject = "s", text = "t" };
        items[250] = new { to = new[] { "a@example.com" }, text = "no subject" };
        items[499] = new { to = new[] { "a@example.com" }, subject = "s", text = "t", id = "mine" };

        using var response = await pipeline.Http.PostAsJsonAsync("/api/send-email/batch", items);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var results = (await response.Content.ReadFromJsonAsync<JsonElement>()).EnumerateArray().ToList();
        Assert.Equal(500, results.Count);
        Assert.Equal([7, 250, 499], results.Select((r, i) => (r, i)).Where(x => x.r.GetProperty("status").ValueKind == JsonValueKind.Number).Select(x => x.i));
        Assert.All(new[] { 7, 250, 499 }, i => Assert.Equal(400, results[i].GetProperty("status").GetInt32()));
        Assert.True(results[7].GetProperty("errors").TryGetProperty("to[0]", out _));
        Assert.True(results[250].GetProperty("errors").TryGetProperty("subject", out _));
        var queued = await pipeline.Queues.TakeAsync(pipeline.Names.SendQueue);
        Assert.Equal(497, queued.Count);
        var ids = results.Where(r => r.GetProperty("status").ValueKind == JsonValueKind.String).Select(r => r.GetProperty("id").GetString()).ToHashSet();
        Assert.Equal(ids, queued.Select(m => m.Properties.MessageId).ToHashSet());
        Assert.DoesNotContain(queued, m => JobCodec.TryDecode(m.Body, out var job, out _) && job!.Subject is "Batch 7" or "Batch 250" or "Batch 499");
    }

    [Fact]
    public async Task A_batch_takes_a_token_of_the_clients_rate_per_item_and_answers_429_for_the_items_over_it()
    {
        var key = TestClients.NewKey();
        await using var pipeline = await Pipeline.StartAsync(worker: false, configure: s =>
        {
            s["Clients:slow:KeyHashes:0"] = Notifications.Core.Clients.ClientRegistry.HashOf(key);
            s["Clients:slow:AllowedFrom:0"] = "slow@example.com";
            s["Clients:slow:RatePerSecond"] = "5";
            s["Clients:slow:Burst"] = "5";
        });
        using var slow = pipeline.NewClient(key);
        var items = Enumerable.Range(0, 50).Select(i => new { to = new[] { $"user{i}@example.com" }, subject = $"Batch {i}", text = "t" }).ToList();

        using var response = await slow.PostAsJsonAsync("/api/send-email/batch", items);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var results = (await response.Content.ReadFromJsonAsync<JsonElement>()).EnumerateArray().ToList();
        var queued = results.Count(r => r.GetProperty("status").ValueKind == JsonValueKind.String);
        // The burst, and perhaps a token that came back while the loop ran (one every 200 ms).
        Assert.InRange(queued, 5, 6);
        Assert.All(results.Skip(queued), r => Assert.Equal(429, r.GetProperty("status").GetInt32()));
        Assert.True(response.Headers.RetryAfter is not null);
        Assert.Equal(queued, (await pipeline.Queues.TakeAsync(pipeline.Names.SendQueue)).Count);

        // The bucket is the client's, not the endpoint's: a single post right after the batch is over the rate too.
        using var single = await slow.PostAsJsonAsync("/api/send-email", new { to = new[] { "x@example.com" }, subject = "s", text = "t" });
        Assert.Equal(HttpStatusCode.TooManyRequests, single.StatusCode);
    }

    [Fact]
    public async Task An_item_that_throws_is_its_own_500_and_the_other_items_of_the_batch_keep_their_answers()
    {
        await using var pipeline = await Pipeline.StartAsync(worker: false, apiServices: services =>
            services.Decorate<Notifications.Core.Store.IIdempotencyKeys>(inner => new ThrowingKeys(inner)));
        var items = new object[]
        {
            new { to = new[] { "a@example.com" }, subject = "first", text = "t" },
            new { to = new[] { "b@example.com" }, subject = "boom", text = "t", idempotencyKey = "boom" },
            new { to = new[] { "c@example.com" }, subject = "third", text = "t" },
        };

        using var response = await pipeline.Http.PostAsJsonAsync("/api/send-email/batch", items);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var results = (await response.Content.ReadFromJsonAsync<JsonElement>()).EnumerateArray().ToList();
        Assert.Equal("queued", results[0].GetProperty("status").GetString());
        Assert.Equal(500, results[1].GetProperty("status").GetInt32());
        Assert.Equal("queued", results[2].GetProperty("status").GetString());
        var queued = await pipeline.Queues.TakeAsync(pipeline.Names.SendQueue);
        Assert.Equal(2, queued.Count);
        Assert.DoesNotContain(queued, m => JobCodec.TryDecode(m.Body, out var job, out _) && job!.Subject == "boom");
    }

    private sealed class ThrowingKeys(Notifications.Core.Store.IIdempotencyKeys inner) : Notifications.Core.Store.IIdempotencyKeys
    {
        public Task<bool> TryRememberIdempotencyKeyAsync(string key, string requestHash, CancellationToken cancellationToken) =>
            key.EndsWith("boom", StringComparison.Ordinal)
                ? throw new InvalidOperationException("a bug in the store (a test's)")
                : inner.TryRememberIdempotencyKeyAsync(key, requestHash, cancellationToken);
    }

    [Fact]
    public async Task An_items_idempotencyKey_gives_it_the_same_id_again_and_a_reused_key_with_another_body_is_that_items_422()
    {
        await using var pipeline = await Pipeline.StartAsync(worker: false);
        var first = new object[] { new { to = new[] { "a@example.com" }, subject = "s", text = "t", idempotencyKey = "order-1" } };
        var second = new object[]
        {
            new { to = new[] { "a@example.com" }, subject = "s", text = "t", idempotencyKey = "order-1" },
            new { to = new[] { "a@example.com" }, subject = "other", text = "t", idempotencyKey = "order-1" },
        };

        var one = await (await pipeline.Http.PostAsJsonAsync("/api/send-email/batch", first)).Content.ReadFromJsonAsync<JsonElement>();
        var two = await (await pipeline.Http.PostAsJsonAsync("/api/send-email/batch", second)).Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal(one[0].GetProperty("id").GetString(), two[0].GetProperty("id").GetString());
        Assert.Equal(422, two[1].GetProperty("status").GetInt32());
    }

    [Theory]
    [InlineData("{\"to\": []}", "JSON array")]
    [InlineData("[]", "1 to 500 jobs")]
    [InlineData("[1, 2", "not valid JSON")]
    public async Task A_batch_that_is_not_an_array_of_1_to_MaxBatch_items_is_a_400(string body, string problem)
    {
        await using var pipeline = await Pipeline.StartAsync(worker: false);

        using var response = await pipeline.Http.PostAsync("/api/send-email/batch", Jobs.Json(body));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(problem, await response.Content.ReadAsStringAsync());
    }
}
