using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Notifications.Api.Console;
using Notifications.Core.Store;

namespace Notifications.Api.Pages.Console;

public sealed class SignOutModel(OperatorActions actions, IConsoleSessions sessions) : ConsolePage
{
    public void OnGet()
    {
    }

    public async Task<IActionResult> OnPostAsync()
    {
        var name = Operator;
        // Ended in the store first: the cookie, wherever a copy of it is, no longer opens anything.
        if (User.FindFirst(ConsoleRegistration.SessionClaim)?.Value is { } session)
            await sessions.EndConsoleSessionAsync(session, HttpContext.RequestAborted);
        await HttpContext.SignOutAsync(ConsoleRegistration.Scheme);
        await actions.RecordAsync(name, "signed out", "console");
        return Redirect(ConsoleRegistration.Path + "/sign-in?signedOut=true");
    }
}
