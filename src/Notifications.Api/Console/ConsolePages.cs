using System.Text;
using Notifications.Core.Contract;
using Notifications.Core.Store;

namespace Notifications.Api.Console;

/// <summary>What the console serves besides its pages: its stylesheet, and a dead letter's HTML body in a sandbox.</summary>
public static class ConsolePages
{
    private static readonly Lazy<byte[]> Stylesheet = new(() =>
    {
        using var stream = typeof(ConsolePages).Assembly.GetManifestResourceStream("Notifications.Api.Console.console.css")!;
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    });

    public static void MapStatic(WebApplication app)
    {
        // Served by the app itself: operators run the console in closed networks, with no CDN.
        app.MapGet(ConsoleRegistration.Path + "/console.css", (HttpContext context) =>
        {
            context.Response.Headers.CacheControl = "public, max-age=3600";
            return Results.Bytes(Stylesheet.Value, "text/css; charset=utf-8");
        }).ExcludeFromDescription();

        app.MapGet(ConsoleRegistration.Path + "/dead-letters/{id}/html", MailHtml)
            .RequireAuthorization(ConsoleRegistration.Policy).ExcludeFromDescription();
        app.MapGet(ConsoleRegistration.Path + "/messages/{id}/html", LoggedHtml)
            .RequireAuthorization(ConsoleRegistration.Policy).ExcludeFromDescription();
    }

    /// <summary>A logged message's HTML body as sent, for its page's sandboxed frame: served as <see cref="MailHtml"/> is.</summary>
    private static async Task<IResult> LoggedHtml(string id, Core.MessageLog.IMessageLog log, HttpContext context, CancellationToken cancellationToken)
    {
        if ((await log.GetContentAsync(id, null, cancellationToken)).Content?.Html is not { } html)
            return Results.NotFound();
        return Sandboxed(context, html);
    }

    private static IResult Sandboxed(HttpContext context, string html)
    {
        var headers = context.Response.Headers;
        headers.ContentSecurityPolicy = "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'; frame-ancestors 'self'";
        headers.XFrameOptions = "SAMEORIGIN";
        return Results.Content(html, "text/html; charset=utf-8");
    }

    /// <summary>
    /// A dead job's HTML body, for the sandboxed frame of its page. The policy <c>sandbox</c> gives the document an origin of
    /// its own with scripts, forms and plugins off, even when it is opened directly; nothing loads from outside (images
    /// inline only), so a mail cannot call home from the operator's browser either.
    /// </summary>
    private static async Task<IResult> MailHtml(string id, IDeadLetterIndex index, HttpContext context, CancellationToken cancellationToken)
    {
        if (await index.GetDeadLetterAsync(id, cancellationToken) is not { } letter
            || !JobCodec.TryDecode(Encoding.UTF8.GetBytes(letter.Detail.Body), out var job, out _) || job!.Html is not { } html)
            return Results.NotFound();
        return Sandboxed(context, html);
    }
}
