using System.ComponentModel.DataAnnotations;

namespace Notifications.Core.Validation;

/// <summary>The <c>Email</c> section: what a job may contain.</summary>
public sealed class EmailOptions
{
    public const string Section = "Email";

    [Required(ErrorMessage = "Email:DefaultFrom is required (the sender used when a request names none)")]
    public string DefaultFrom { get; set; } = "";

    /// <summary>Senders a request may name in <c>from</c>; <see cref="DefaultFrom"/> is always allowed.</summary>
    public List<string> AllowedFrom { get; set; } = [];

    [Range(1, 10_000, ErrorMessage = "Email:MaxRecipients must be between 1 and 10000")]
    public int MaxRecipients { get; set; } = 50;

    [Range(1_024, 64 * 1024 * 1024, ErrorMessage = "Email:MaxRequestBytes must be between 1024 and 67108864")]
    public int MaxRequestBytes { get; set; } = 10 * 1024 * 1024;

    /// <summary>How far ahead <c>sendAt</c> may be.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "48.00:00:00", ErrorMessage = "Email:MaxSchedule must be between 1 s and 48 days")]
    public TimeSpan MaxSchedule { get; set; } = TimeSpan.FromDays(30);

    /// <summary>File name endings an attachment may not have (compared without regard to case); empty: <see cref="AttachmentPolicy.DefaultBlockedExtensions"/>.</summary>
    public List<string> BlockedExtensions { get; set; } = [];

    /// <summary>Endings let through although blocked (<c>.html</c>, <c>.svg</c>, <c>.iso</c>), with the content types that go with them.</summary>
    public List<string> AllowedAttachmentTypes { get; set; } = [];
}
