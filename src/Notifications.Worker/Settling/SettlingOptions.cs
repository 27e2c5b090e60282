using System.ComponentModel.DataAnnotations;

namespace Notifications.Worker.Settling;

/// <summary>The <c>Settling</c> section: how announcements that failed are tried again while their delivery is held.</summary>
public sealed class SettlingOptions
{
    public const string Section = "Settling";

    [Range(typeof(TimeSpan), "00:00:00.010", "00:01:00", ErrorMessage = "Settling:FirstRetry must be between 10 ms and 1 minute")]
    public TimeSpan FirstRetry { get; set; } = TimeSpan.FromMilliseconds(500);

    [Range(typeof(TimeSpan), "00:00:00.010", "00:10:00", ErrorMessage = "Settling:LongestRetry must be between 10 ms and 10 minutes")]
    public TimeSpan LongestRetry { get; set; } = TimeSpan.FromSeconds(30);
}
