using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using Notifications.Core.Store;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Notifications.Api.Console;
using Notifications.Core.Clients;

namespace Notifications.Api.Pages.Console;

/// <summary>
/// Sign-in with an operator client's key. The key is checked as the API checks it (hash, constant time), never logged or
/// shown; a key that is not an operator's, or no key's at all, gets the same answer.
/// </summary>
public sealed class SignInModel(ClientRegistry clients, OperatorActions actions, IConsoleSessions sessions, IOptions<ConsoleOptions> options,
    TimeProvider clock, ILogger<SignInModel> logger) : ConsolePage
{
    public string? Problem { get; private set; }
    public bool SignedOut { get; private set; }

    [BindProperty(SupportsGet = true)]
    public string? ReturnUrl { get; set; }

    public void OnGet(bool signedOut = false) => SignedOut = signedOut;

    public async Task<IActionResult> OnPostAsync(string? key)
    {
        var client = key is { Length: > 0 and <= ClientRegistry.MaxKeyLength } ? clients.FindByKey(key) : null;
        if (client is not { IsOperator: true })
        {
            logger.LogWarning("Console sign-in refused from {Remote}: {Why}", HttpContext.Connection.RemoteIpAddress,
                client is null ? "not a client's key" : $"client {client.Name} is not an operator");
            Problem = "That key is not an operator's. Only a client with \"Operator\": true may use the console.";
            Response.StatusCode = StatusCodes.Status401Unauthorized;
            return Page();
        }
        var session = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        await sessions.StartConsoleSessionAsync(session, clock.GetUtcNow() + options.Value.MaxSessionLifetime, HttpContext.RequestAborted);
        var identity = new ClaimsIdentity(
            [new Claim(ClaimTypes.Name, client.Name), new Claim(ConsoleRegistration.KeyClaim, ClientRegistry.Fingerprint(key!)),
                new Claim(ConsoleRegistration.SessionClaim, session)],
            ConsoleRegistration.Scheme);
        await HttpContext.SignInAsync(ConsoleRegistration.Scheme, new ClaimsPrincipal(identity),
            new AuthenticationProperties { IsPersistent = false, AllowRefresh = true });
        await actions.RecordAsync(client.Name, "signed in", "console");
        return LocalRedirect(Url.IsLocalUrl(ReturnUrl) && ReturnUrl!.StartsWith(ConsoleRegistration.Path, StringComparison.Ordinal)
            ? ReturnUrl : ConsoleRegistration.Path);
    }
}
