using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Notifications.Tests.Infrastructure;

/// <summary>Requests the tests post.</summary>
public static class Jobs
{
    public static object Valid(string subject = "Your order shipped") => new
    {
        to = new[] { "Alice <alice@example.com>" },
        subject,
        text = "It is on its way.",
        html = "<p>It is on its way.</p>",
        headers = new Dictionary<string, string> { ["X-Campaign"] = "spring" },
        metadata = new Dictionary<string, string> { ["orderId"] = "42" },
    };

    public static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    public static async Task<string> PostAndGetIdAsync(HttpClient http, object request)
    {
        using var response = await http.PostAsJsonAsync("/api/send-email", request);
        var body = await response.Content.ReadAsStringAsync();
        if ((int)response.StatusCode != 202)
            throw new InvalidOperationException($"expected 202, got {(int)response.StatusCode}: {body}");
        return JsonDocument.Parse(body).RootElement.GetProperty("id").GetString()!;
    }

    /// <summary><c>GET /api/emails/{id}</c> until <paramref name="done"/> says so (a 404 meanwhile is "not yet").</summary>
    public static Task<JsonElement> StatusWhenAsync(HttpClient http, string id, Func<JsonElement, bool> done, string what, TimeSpan? timeout = null) =>
        WhenAsync(http, $"/api/emails/{id}", done, what, timeout);

    /// <summary><c>GET /api/messages/{id}</c> (the message log) until <paramref name="done"/> says so.</summary>
    public static Task<JsonElement> MessageWhenAsync(HttpClient http, string id, Func<JsonElement, bool> done, string what, TimeSpan? timeout = null) =>
        WhenAsync(http, $"/api/messages/{id}", done, what, timeout);

    private static Task<JsonElement> WhenAsync(HttpClient http, string path, Func<JsonElement, bool> done, string what, TimeSpan? timeout) =>
        Eventually.ReturnsAsync(async () =>
        {
            using var response = await http.GetAsync(path);
            return response.StatusCode == System.Net.HttpStatusCode.OK ? await response.Content.ReadFromJsonAsync<JsonElement>() : default;
        }, m => m.ValueKind == JsonValueKind.Object && done(m), what, timeout);
}
