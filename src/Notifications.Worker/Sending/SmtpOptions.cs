using System.ComponentModel.DataAnnotations;

namespace Notifications.Worker.Sending;

public enum SmtpSecurity
{
    None,
    StartTls,
    SslOnConnect,
    Auto,
}

/// <summary>The <c>Smtp</c> section: the relay every mail goes through.</summary>
public sealed class SmtpOptions
{
    public const string Section = "Smtp";

    [Required(ErrorMessage = "Smtp:Host is required")]
    public string Host { get; set; } = "";

    [Range(1, 65_535, ErrorMessage = "Smtp:Port must be between 1 and 65535")]
    public int Port { get; set; } = 25;

    public SmtpSecurity Security { get; set; } = SmtpSecurity.Auto;

    public string? Username { get; set; }

    public string? Password { get; set; }

    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00", ErrorMessage = "Smtp:Timeout must be between 100 ms and 10 minutes")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Connections kept open to the relay and used in parallel.</summary>
    [Range(1, 64, ErrorMessage = "Smtp:Connections must be between 1 and 64")]
    public int Connections { get; set; } = 4;

    public bool HasCredentials => !string.IsNullOrEmpty(Username);
}
