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

    /// <summary>
    /// Connections kept open to the relay and used in parallel: as many as the deliveries handled at once
    /// (RabbitMq:Concurrency), so a relay 20 ms away is not waited on four sends at a time (README, Benchmark).
    /// </summary>
    [Range(1, 64, ErrorMessage = "Smtp:Connections must be between 1 and 64")]
    public int Connections { get; set; } = 16;

    /// <summary>How long the circuit stays open after the relay looked down, before one send probes it again.</summary>
    [Range(typeof(TimeSpan), "00:00:00.500", "00:10:00", ErrorMessage = "Smtp:CircuitBreakDuration must be between 500 ms and 10 minutes")]
    public TimeSpan CircuitBreakDuration { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The share of sends within <see cref="CircuitSamplingDuration"/> that found the relay down, above which the circuit opens.</summary>
    [Range(0.01, 1.0, ErrorMessage = "Smtp:CircuitFailureRatio must be between 0.01 and 1")]
    public double CircuitFailureRatio { get; set; } = 0.5;

    /// <summary>Sends within <see cref="CircuitSamplingDuration"/> before the ratio is judged at all.</summary>
    [Range(2, 1_000, ErrorMessage = "Smtp:CircuitMinimumThroughput must be between 2 and 1000")]
    public int CircuitMinimumThroughput { get; set; } = 2;

    [Range(typeof(TimeSpan), "00:00:00.500", "00:10:00", ErrorMessage = "Smtp:CircuitSamplingDuration must be between 500 ms and 10 minutes")]
    public TimeSpan CircuitSamplingDuration { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long the worker holds its deliveries during a relay outage before it returns them and stops
    /// consuming; below the broker's consumer_timeout (30 min by default), so the channel is never closed under it.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:25:00", ErrorMessage = "Smtp:OutageHold must be between 100 ms and 25 minutes")]
    public TimeSpan OutageHold { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Mails a second this worker sends at most (0: no limit); it goes slower by itself while the relay throttles.</summary>
    [Range(0, 1_000_000, ErrorMessage = "Smtp:MaxPerSecond must be 0 (no limit) or more")]
    public int MaxPerSecond { get; set; }

    /// <summary>Mails a second per recipient domain (<c>{"gmail.com": 20}</c>); a domain not named has no limit of its own.</summary>
    public Dictionary<string, double> DomainLimits { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>A PEM file with the certificate of a private CA the relay's certificate is issued by (or the relay's own, self-signed).</summary>
    public string? CaCertificate { get; set; }

    public bool HasCredentials => !string.IsNullOrEmpty(Username);
}
