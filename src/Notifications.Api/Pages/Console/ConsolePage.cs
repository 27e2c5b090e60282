using System.Globalization;
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

    /// <summary>A text from the query string: trimmed, empty as null, and at most 200 characters.</summary>
    protected static string? Clean(string? value)
    {
        var trimmed = value?.Trim();
        if (string.IsNullOrEmpty(trimmed))
            return null;
        return trimmed.Length <= 200 ? trimmed : trimmed[..200];
    }
}
