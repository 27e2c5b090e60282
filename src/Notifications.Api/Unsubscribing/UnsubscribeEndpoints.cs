using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;
using Notifications.Core.Unsubscribing;

namespace Notifications.Api.Unsubscribing;

/// <summary>
/// One-click unsubscribe (RFC 8058), public: <c>POST /unsubscribe/{token}</c> takes the address off the list with no key,
/// cookie or CSRF token and no redirect, whatever the body (providers post <c>List-Unsubscribe=One-Click</c> as a form);
/// <c>GET</c> only shows a page with a button (link scanners fetch every URL). A token that does not verify is 404 and
/// changes nothing. Rate-limited per remote address.
/// </summary>
public static class UnsubscribeEndpoints
{
    public const string RateLimitPolicy = "unsubscribe";
    private const string Path = "/unsubscribe";
    private const long MaxBody = 64 * 1024;

    public static IEndpointRouteBuilder MapUnsubscribe(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup(Path).AllowAnonymous().RequireRateLimiting(RateLimitPolicy).ExcludeFromDescription();
        group.MapGet("/{token}", (string token, UnsubscribeTokens tokens, HttpContext http) =>
            tokens.TryRead(token, out var member)
                ? Html(http, StatusCodes.Status200OK, UnsubscribePages.Confirm(member!.List))
                : Html(http, StatusCodes.Status404NotFound, UnsubscribePages.NotFound()));
        group.MapPost("/{token}", PostAsync);
        return routes;
    }

    private static async Task<IResult> PostAsync(string token, HttpContext http, UnsubscribeTokens tokens, ListUnsubscriber unsubscriber,
        CancellationToken cancellationToken)
    {
        await DrainBodyAsync(http, cancellationToken);
        if (!tokens.TryRead(token, out var member))
            return Html(http, StatusCodes.Status404NotFound, UnsubscribePages.NotFound());
        return await unsubscriber.UnsubscribeAsync(member!, cancellationToken) switch
        {
            ListUnsubscriber.Outcome.TryLater => Html(http, StatusCodes.Status503ServiceUnavailable, UnsubscribePages.TryLater()),
            _ => Html(http, StatusCodes.Status200OK, UnsubscribePages.Done(member!.List)),
        };
    }

    /// <summary>The body says nothing we need (form, multipart or none): read and dropped, at most 64 KB.</summary>
    private static async Task DrainBodyAsync(HttpContext http, CancellationToken cancellationToken)
    {
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
            limit.MaxRequestBodySize = MaxBody;
        try
        {
            await http.Request.Body.CopyToAsync(Stream.Null, cancellationToken);
        }
        catch (BadHttpRequestException)
        {
            // Too large or cut off: the token alone decides.
        }
    }

    private static IResult Html(HttpContext http, int status, string page)
    {
        var headers = http.Response.Headers;
        headers.CacheControl = "no-store";
        headers["Referrer-Policy"] = "no-referrer";
        headers["X-Robots-Tag"] = "noindex";
        headers.ContentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
        headers["X-Content-Type-Options"] = "nosniff";
        return Results.Content(page, "text/html; charset=utf-8", statusCode: status);
    }

    public static void AddRateLimit(RateLimiterOptions limiter) => limiter.AddPolicy(RateLimitPolicy, http =>
    {
        var perMinute = http.RequestServices.GetRequiredService<IOptions<UnsubscribeOptions>>().Value.PerAddressPerMinute;
        return RateLimitPartition.GetFixedWindowLimiter(http.Connection.RemoteIpAddress?.ToString() ?? "unknown",
            _ => new FixedWindowRateLimiterOptions { PermitLimit = perMinute, Window = TimeSpan.FromMinutes(1), QueueLimit = 0 });
    });

    public static bool IsUnsubscribe(HttpContext http) => http.Request.Path.StartsWithSegments(Path);

    public static async Task TooManyAsync(HttpContext http)
    {
        http.Response.StatusCode = StatusCodes.Status429TooManyRequests;
        http.Response.Headers.RetryAfter = "60";
        http.Response.ContentType = "text/html; charset=utf-8";
        await http.Response.WriteAsync(UnsubscribePages.TooMany());
    }
}
