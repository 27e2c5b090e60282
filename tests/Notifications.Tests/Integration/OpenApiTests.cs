using System.Text.Json;
using Notifications.Tests.Infrastructure;

namespace Notifications.Tests.Integration;

/// <summary>GET /openapi/v1.json: generated from the endpoints, with the bearer scheme, and open like /health.</summary>
public sealed class OpenApiTests
{
    [Fact]
    public async Task The_document_describes_every_endpoint_its_request_its_problems_and_the_bearer_key()
    {
        await using var pipeline = await Pipeline.StartAsync(worker: false);
        using var anonymous = pipeline.NewClient(key: null);

        var document = JsonDocument.Parse(await anonymous.GetStringAsync("/openapi/v1.json")).RootElement;

        var paths = document.GetProperty("paths");
        var send = paths.GetProperty("/api/send-email").GetProperty("post");
        var status = paths.GetProperty("/api/emails/{id}").GetProperty("get");
        var answers = send.GetProperty("responses").EnumerateObject().Select(r => r.Name).ToHashSet();
        Assert.Superset(new HashSet<string> { "202", "400", "401", "403", "413", "415", "422", "429", "503" }, answers);
        Assert.Contains("application/json", send.GetProperty("requestBody").GetProperty("content").EnumerateObject().Select(c => c.Name));
        var schemas = document.GetProperty("components").GetProperty("schemas");
        Assert.True(schemas.TryGetProperty("SendEmailRequest", out var request), schemas.ToString());
        Assert.Contains("to", request.GetProperty("properties").EnumerateObject().Select(p => p.Name));
        Assert.Equal("bearer", document.GetProperty("components").GetProperty("securitySchemes").GetProperty("Bearer").GetProperty("scheme").GetString());
        Assert.True(send.TryGetProperty("security", out _) && status.TryGetProperty("security", out _));
        Assert.False(paths.TryGetProperty("/health/live", out var health) && health.GetProperty("get").TryGetProperty("security", out _));
    }
}
