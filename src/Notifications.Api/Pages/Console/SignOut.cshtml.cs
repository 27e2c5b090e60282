using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Notifications.Api.Console;

namespace Notifications.Api.Pages.Console;

public sealed class SignOutModel(OperatorActions actions) : ConsolePage
{
    public void OnGet()
    {
    }

    public async Task<IActionResult> OnPostAsync()
    {
        var name = Operator;
        await HttpContext.SignOutAsync(ConsoleRegistration.Scheme);
        await actions.RecordAsync(name, "signed out", "console");
        return Redirect(ConsoleRegistration.Path + "/sign-in?signedOut=true");
    }
}
