using System.ComponentModel.DataAnnotations;

namespace Notifications.Api.Console;

/// <summary>The <c>Console</c> section.</summary>
public sealed class ConsoleOptions
{
    public const string Section = "Console";

    /// <summary>The longest a console session lasts from its sign-in, however active: then the operator signs in again.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "30.00:00:00", ErrorMessage = "Console:MaxSessionLifetime must be between 1 second and 30 days")]
    public TimeSpan MaxSessionLifetime { get; set; } = TimeSpan.FromHours(8);
}
