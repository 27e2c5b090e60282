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

    [Fact]
    public async Task The_document_passes_redoclys_recommended_rules_without_an_error_or_a_warning()
    {
        var redocly = Environment.GetEnvironmentVariable("REDOCLY_CLI")
            ?? throw new InvalidOperationException("REDOCLY_CLI is not set: run scripts/test.sh, which installs @redocly/cli into .tools/redocly");
        await using var pipeline = await Pipeline.StartAsync(worker: false);
        using var anonymous = pipeline.NewClient(key: null);
        var file = Path.Combine(Path.GetTempPath(), $"openapi-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(file, await anonymous.GetStringAsync("/openapi/v1.json"));
        try
        {
            var start = new System.Diagnostics.ProcessStartInfo(redocly, ["lint", file, "--format=stylish"])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                Environment = { ["REDOCLY_TELEMETRY"] = "off", ["REDOCLY_SUPPRESS_UPDATE_NOTICE"] = "true" },
            };
            using var lint = System.Diagnostics.Process.Start(start)!;
            var output = lint.StandardOutput.ReadToEndAsync();
            var errors = lint.StandardError.ReadToEndAsync();
            await lint.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(2));
            var said = await output + await errors;

            Assert.True(lint.ExitCode == 0, said);
            Assert.DoesNotContain(" warning ", said);
            Assert.DoesNotContain(" error ", said);
            Assert.Contains("valid", said);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Every_operation_and_schema_has_a_description_and_every_schema_an_example()
    {
        await using var pipeline = await Pipeline.StartAsync(worker: false);
        using var anonymous = pipeline.NewClient(key: null);

        var document = JsonDocument.Parse(await anonymous.GetStringAsync("/openapi/v1.json")).RootElement;

        foreach (var path in document.GetProperty("paths").EnumerateObject())
            foreach (var operation in path.Value.EnumerateObject())
            {
                Assert.True(operation.Value.TryGetProperty("description", out var description) && description.GetString()!.Length > 20,
                    $"{operation.Name} {path.Name} has no description");
                Assert.Single(operation.Value.GetProperty("tags").EnumerateArray());
            }
        foreach (var schema in document.GetProperty("components").GetProperty("schemas").EnumerateObject())
        {
            Assert.True(schema.Value.TryGetProperty("description", out _), $"schema {schema.Name} has no description");
            Assert.True(schema.Value.TryGetProperty("examples", out var examples) && examples.GetArrayLength() > 0, $"schema {schema.Name} has no example");
        }
        Assert.All(document.GetProperty("tags").EnumerateArray(), tag => Assert.True(tag.TryGetProperty("description", out _)));
        Assert.All(document.GetProperty("servers").EnumerateArray(), server => Assert.False(server.GetProperty("url").GetString()!.EndsWith('/')));
    }
}
