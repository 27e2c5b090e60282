using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using Notifications.Core.Clients;

namespace Notifications.Api.Clients;

/// <summary>
/// <c>Authorization: Bearer &lt;key&gt;</c>: the key's SHA-256 against every client's key hashes, in constant time.
/// A missing, malformed or unknown key is a 401 problem with <c>WWW-Authenticate: Bearer</c>; the key itself is
/// never logged or echoed.
/// </summary>
public sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory loggers,
    UrlEncoder encoder,
    ClientRegistry clients,
    IProblemDetailsService problems) : AuthenticationHandler<AuthenticationSchemeOptions>(options, loggers, encoder)
{
    public const string SchemeName = "Bearer";
    private const string Prefix = "Bearer ";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var headers = Request.Headers.Authorization;
        if (headers.Count == 0)
            return Task.FromResult(AuthenticateResult.NoResult());
        if (headers.Count > 1)
            return Fail("more than one Authorization header");
        var value = headers[0]!;
        if (!value.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase))
            return Fail("the Authorization header is not 'Bearer <key>'");
        var key = value[Prefix.Length..];
        if (key.Length is 0 or > ClientRegistry.MaxKeyLength || !key.All(c => c is > ' ' and <= '~'))
            return Fail("the key is malformed");
        if (clients.FindByKey(key) is not { } client)
            return Fail("the key is not one of a client's");
        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, client.Name)], SchemeName);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
    }

    private static Task<AuthenticateResult> Fail(string why) => Task.FromResult(AuthenticateResult.Fail(why));

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var result = await HandleAuthenticateOnceAsync();
        var given = result.Failure is not null;
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = given ? "Bearer error=\"invalid_token\"" : "Bearer";
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = Context,
            ProblemDetails =
            {
                Status = StatusCodes.Status401Unauthorized,
                Title = "Unauthorized",
                Detail = given
                    ? $"The API key was refused: {result.Failure!.Message}."
                    : "Send a client's API key as 'Authorization: Bearer <key>'.",
            },
        });
    }
}
