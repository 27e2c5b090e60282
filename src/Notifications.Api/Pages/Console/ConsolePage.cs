using System.Globalization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Notifications.Api.Pages.Console;

/// <summary>What every console page has: the signed-in operator, and times written one way.</summary>
public abstract class ConsolePage : PageModel
{
    /// <summary>The operator client's name (the cookie's identity).</summary>
    public string Operator => User.Identity?.Name ?? "(unknown)";

    public static string Time(DateTimeOffset? at) =>
        at is { } value ? value.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture) : "";

    public static string Count(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    public static string Percent(double value, int decimals = 1) => value.ToString("P" + decimals, CultureInfo.InvariantCulture);

    /// <summary>
    /// The notice an action leaves for the page it redirects to, in TempData (a cookie signed by the server): never a
    /// query parameter, which anyone could fill with words the console would show as its own.
    /// </summary>
    protected IActionResult RedirectWithNotice(string url, string notice)
    {
        TempData[NoticeKey] = notice;
        return Redirect(url);
    }

    /// <summary>The notice left by the action before, once; null when there is none.</summary>
    protected string? TakeNotice() => TempData[NoticeKey] as string;

    private const string NoticeKey = "notice";

    /// <summary>A text from the query string: trimmed, empty as null, and at most 200 characters.</summary>
    protected static string? Clean(string? value)
    {
        var trimmed = value?.Trim();
        if (string.IsNullOrEmpty(trimmed))
            return null;
        return trimmed.Length <= 200 ? trimmed : trimmed[..200];
    }
}
