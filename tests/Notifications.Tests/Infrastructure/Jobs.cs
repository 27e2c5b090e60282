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
}
