using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Notifications.Core.Contract;
using Notifications.Tests.Infrastructure;
using RabbitMQ.Client;

namespace Notifications.Tests.Integration;

/// <summary>The HTTP contract against the real broker: 202 only once confirmed, every bad input its 4xx and nothing published.</summary>
public sealed class ApiTests : IAsyncLifetime
{
    private Pipeline _pipeline = null!;

    public async Task InitializeAsync() =>
        _pipeline = await Pipeline.StartAsync(worker: false, configure: s =>
        {
            s["Email:MaxRecipients"] = "3";
            s["Email:MaxRequestBytes"] = "4096";
        });

    public async Task DisposeAsync() => await _pipeline.DisposeAsync();

    [Fact]
    public async Task Accepted_job_is_in_the_work_queue_as_a_persistent_typed_message()
    {
        using var response = await _pipeline.Http.PostAsJsonAsync("/api/send-email", Jobs.Valid());

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        var id = body.GetProperty("id").GetString();
        Assert.Equal("queued", body.GetProperty("status").GetString());

        var message = (await _pipeline.Queues.WaitAndTakeAsync(_pipeline.Names.SendQueue, 1)).Single();
        Assert.Equal(id, message.Properties.MessageId);
        Assert.Equal(JobMessage.ContentType, message.Properties.ContentType);
        Assert.Equal(JobMessage.Type, message.Properties.Type);
        Assert.Equal(DeliveryModes.Persistent, message.Properties.DeliveryMode);
        Assert.True(message.Properties.Timestamp.UnixTime > 0);
        Assert.True(JobCodec.TryDecode(message.Body, out var job, out _));
        Assert.Equal(id, job!.Id);
        Assert.True(job.CreatedAt > DateTimeOffset.UtcNow.AddMinutes(-1));
        Assert.Equal("Notifications <no-reply@example.com>", job.From);
        Assert.Equal("42", job.Metadata!["orderId"]);
    }

    public static TheoryData<string, string, string> BadRequests => new()
    {
        { "invalid JSON", """{"to": ["a@example.com"], "subject": """, "subject" },
        { "not JSON at all", "hello", "body" },
        { "JSON of the wrong shape", """{"to": "a@example.com", "subject": "s", "text": "t"}""", "to" },
        { "unknown field", """{"to": ["a@example.com"], "subject": "s", "text": "t", "attachment": []}""", "attachment" },
        { "invalid address", """{"to": ["not an address"], "subject": "s", "text": "t"}""", "to[0]" },
        { "two addresses in one entry", """{"to": ["a@example.com, b@example.com"], "subject": "s", "text": "t"}""", "to[0]" },
        { "CR/LF in subject", """{"to": ["a@example.com"], "subject": "hi\r\nBcc: x@evil.example", "text": "t"}""", "subject" },
        { "CR/LF in header", """{"to": ["a@example.com"], "subject": "s", "text": "t", "headers": {"X-A": "1\r\nBcc: x@evil.example"}}""", "headers.X-A" },
        { "reserved header", """{"to": ["a@example.com"], "subject": "s", "text": "t", "headers": {"Bcc": "x@evil.example"}}""", "headers.Bcc" },
        { "too many recipients", """{"to": ["a@example.com", "b@example.com"], "cc": ["c@example.com", "d@example.com"], "subject": "s", "text": "t"}""", "to" },
        { "no recipient", """{"subject": "s", "text": "t"}""", "to" },
        { "no subject", """{"to": ["a@example.com"], "text": "t"}""", "subject" },
        { "no body", """{"to": ["a@example.com"], "subject": "s"}""", "text" },
        { "client-chosen id", """{"id": "mine", "to": ["a@example.com"], "subject": "s", "text": "t"}""", "id" },
        { "service-set createdAt", """{"createdAt": "2026-01-01T00:00:00Z", "to": ["a@example.com"], "subject": "s", "text": "t"}""", "createdAt" },
        { "a field given twice", """{"to": ["a@example.com"], "to": ["victim@evil.test"], "subject": "s", "text": "t"}""", "to" },
        { "a field given twice, differently cased", """{"to": ["a@example.com"], "To": ["victim@evil.test"], "subject": "s", "text": "t"}""", "To" },
        { "BEL in the subject", """{"to": ["a@example.com"], "subject": "ring\u0007", "text": "t"}""", "subject" },
        { "ESC in a header value", """{"to": ["a@example.com"], "subject": "s", "text": "t", "headers": {"X-A": "\u001b[31m"}}""", "headers.X-A" },
        { "NUL in a display name", """{"to": ["Ali\u0000ce <a@example.com>"], "subject": "s", "text": "t"}""", "to[0]" },
        { "a DKIM signature of the caller's", """{"to": ["a@example.com"], "subject": "s", "text": "t", "headers": {"DKIM-Signature": "v=1"}}""", "headers.DKIM-Signature" },
        { "any Content-* header", """{"to": ["a@example.com"], "subject": "s", "text": "t", "headers": {"Content-Language": "de"}}""", "headers.Content-Language" },
        { "JSON null", "null", "body" },
        { "empty body", "", "body" },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task Bad_request_gets_400_with_the_field_and_publishes_nothing(string why, string json, string field)
    {
        using var response = await _pipeline.Http.PostAsync("/api/send-email", Jobs.Json(json));

        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{why}: got {(int)response.StatusCode}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var errors = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("errors");
        Assert.True(errors.TryGetProperty(field, out _), $"{why}: errors {errors} do not name '{field}'");
        await AssertNothingPublishedAsync();
    }

    [Fact]
    public async Task Body_over_the_limit_gets_413_and_publishes_nothing()
    {
        var request = new { to = new[] { "a@example.com" }, subject = "big", text = new string('x', 8_000) };

        using var response = await _pipeline.Http.PostAsJsonAsync("/api/send-email", request);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        await AssertNothingPublishedAsync();
    }

    [Fact]
    public async Task Chunked_body_over_the_limit_gets_413_and_publishes_nothing()
    {
        var json = JsonSerializer.Serialize(new { to = new[] { "a@example.com" }, subject = "big", text = new string('x', 8_000) });
        using var content = new StreamContent(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(json)));
        content.Headers.ContentType = new("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/send-email") { Content = content };
        request.Headers.TransferEncodingChunked = true;

        using var response = await _pipeline.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        await AssertNothingPublishedAsync();
    }

    [Fact]
    public async Task Not_JSON_gets_415_and_publishes_nothing()
    {
        using var response = await _pipeline.Http.PostAsync("/api/send-email",
            new StringContent("to=a@example.com", System.Text.Encoding.UTF8, "application/x-www-form-urlencoded"));

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        await AssertNothingPublishedAsync();
    }

    [Fact]
    public async Task Health_is_live_and_ready_with_the_broker_connected()
    {
        Assert.Equal(HttpStatusCode.OK, (await _pipeline.Http.GetAsync("/health/live")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _pipeline.Http.GetAsync("/health/ready")).StatusCode);
    }

    private async Task AssertNothingPublishedAsync()
    {
        // Publishing is confirmed before any answer, so a message published by this request would already be counted.
        Assert.Equal(0u, await _pipeline.Queues.CountAsync(_pipeline.Names.SendQueue));
    }
}
