using System.Net;
using System.Text;

namespace Notifications.Api.Unsubscribing;

/// <summary>
/// The pages a person sees: plain HTML, no script, nothing from elsewhere, every page the same length (a good and a bad
/// token cannot be told apart by size), and never the address.
/// </summary>
public static class UnsubscribePages
{
    private const int Length = 2048;

    public static string Confirm(string list) => Page("Unsubscribe",
        $"""
        <p>Stop receiving <strong>{WebUtility.HtmlEncode(list)}</strong> mail?</p>
        <form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click"><button type="submit">Unsubscribe</button></form>
        <p>Other mail you asked for (receipts, password resets) still comes.</p>
        """);

    public static string Done(string list) => Page("Unsubscribed",
        $"<p>You will not receive <strong>{WebUtility.HtmlEncode(list)}</strong> mail any more.</p>");

    public static string NotFound() => Page("Link not valid",
        "<p>This unsubscribe link is not valid. If you copied it, check that nothing is missing at its end.</p>");

    public static string TryLater() => Page("Try again",
        "<p>We could not take you off the list just now. Please try again in a few minutes; nothing was changed.</p>");

    public static string TooMany() => Page("Too many requests", "<p>Too many requests from your address. Please try again in a minute.</p>");

    private static string Page(string title, string body)
    {
        var page = new StringBuilder($"""
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <meta name="robots" content="noindex"><title>{title}</title>
            <style>body{"{"}font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem{"}"}button{"{"}font-size:1rem;padding:.5rem 1.25rem{"}"}</style>
            </head><body><h1>{title}</h1>
            {body}
            </body></html>
            """);
        // Padded to one length in a comment: a page says nothing by its size.
        page.Append("<!--").Append(' ', Math.Max(0, Length - page.Length - 7)).Append("-->");
        return page.ToString();
    }
}
