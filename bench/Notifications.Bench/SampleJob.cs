using Notifications.Core.Contract;

namespace Notifications.Bench;

/// <summary>The job every stage moves: about 1 KB of JSON, text and html, like a real notification.</summary>
public static class SampleJob
{
    public static readonly string Text = string.Concat(Enumerable.Repeat("Your order 4711 has shipped and is on its way. ", 12));
    public static readonly string Html = "<p>" + string.Concat(Enumerable.Repeat("Your order <b>4711</b> has shipped. ", 8)) + "</p>";

    public static object Request(int n) => new
    {
        to = new[] { $"Customer {n} <customer{n}@example.com>" },
        subject = $"Order 4711-{n} shipped",
        text = Text,
        html = Html,
        metadata = new Dictionary<string, string> { ["orderId"] = $"4711-{n}" },
    };

    public static EmailJob Job(string id) => new()
    {
        Id = id, CreatedAt = DateTimeOffset.UtcNow, From = "Shop <shop@example.com>",
        To = ["Customer <customer@example.com>"], Subject = "Order 4711 shipped", Text = Text, Html = Html,
        Metadata = new Dictionary<string, string> { ["orderId"] = "4711" },
    };
}
