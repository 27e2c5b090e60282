using System.Net;
using Microsoft.Extensions.Options;

namespace Notifications.Core.Bounces;

/// <summary>
/// The <c>Bounces</c> section: the domain bounces and complaints come back to, the secret of the return-path tokens,
/// and the inbound receiver's limits. Empty <see cref="Domain"/>: mail keeps its sender as envelope sender and nothing
/// is received.
/// </summary>
public sealed class BouncesOptions
{
    public const string Section = "Bounces";

    /// <summary>The return-path domain (<c>bounces.example.com</c>), its MX pointing at the receiver.</summary>
    public string Domain { get; set; } = "";

    /// <summary>At least 32 characters of randomness, shared by worker and receiver's consumer; never logged.</summary>
    public string Secret { get; set; } = "";

    /// <summary>Where the receiver listens, <c>address:port</c>.</summary>
    public string Listen { get; set; } = "127.0.0.1:2525";

    /// <summary>The largest message accepted (<c>552</c> above); a bounce carrying the whole returned mail stays far under it.</summary>
    public int MaxMessageBytes { get; set; } = 10 * 1024 * 1024;

    /// <summary>Sessions served at once; one more is answered <c>421 4.7.0</c> and closed.</summary>
    public int MaxSessions { get; set; } = 100;

    /// <summary>Sessions served at once to one remote address; one more from it is answered <c>421 4.7.0</c> and closed.</summary>
    public int MaxSessionsPerAddress { get; set; } = 10;

    /// <summary><c>RCPT TO</c> taken in one transaction (a report goes to one return path); one more is <c>452 4.5.3</c>.</summary>
    public int MaxRecipients { get; set; } = 10;

    /// <summary>How long the receiver waits for a client's next command.</summary>
    public TimeSpan CommandTimeout { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>The longest a session may last, whatever it does.</summary>
    public TimeSpan SessionTimeout { get; set; } = TimeSpan.FromMinutes(10);

    public bool Enabled => Domain.Length > 0;

    /// <summary>Where to listen, parsed (a method: the configuration binder would read a property).</summary>
    public IPEndPoint ListenEndPoint() => IPEndPoint.Parse(Listen);

    /// <summary>A host name for the domain, a long enough secret with it, a listen address and sane limits. Never says a secret.</summary>
    public sealed class Validator : IValidateOptions<BouncesOptions>
    {
        public const int MinSecretLength = 32;

        public ValidateOptionsResult Validate(string? name, BouncesOptions options)
        {
            var failures = new List<string>();
            if (options.Domain.Length > 0)
            {
                if (Uri.CheckHostName(options.Domain) != UriHostNameType.Dns || !options.Domain.Contains('.'))
                    failures.Add($"Bounces:Domain must be a domain name such as bounces.example.com, not '{options.Domain}'");
                if (options.Secret.Length < MinSecretLength)
                    failures.Add($"Bounces:Secret must hold at least {MinSecretLength} characters when Bounces:Domain is set (openssl rand -base64 32)");
            }
            if (!IPEndPoint.TryParse(options.Listen, out var endpoint) || endpoint.Port == 0)
                failures.Add($"Bounces:Listen must be address:port, e.g. 127.0.0.1:2525 or 0.0.0.0:25, not '{options.Listen}'");
            if (options.MaxMessageBytes is < 64 * 1024 or > 100 * 1024 * 1024)
                failures.Add("Bounces:MaxMessageBytes must be between 65536 and 104857600");
            if (options.MaxSessions is < 1 or > 10_000)
                failures.Add("Bounces:MaxSessions must be between 1 and 10000");
            if (options.MaxSessionsPerAddress is < 1 or > 10_000)
                failures.Add("Bounces:MaxSessionsPerAddress must be between 1 and 10000");
            if (options.MaxRecipients is < 1 or > 100)
                failures.Add("Bounces:MaxRecipients must be between 1 and 100");
            if (options.CommandTimeout < TimeSpan.FromSeconds(1) || options.CommandTimeout > TimeSpan.FromMinutes(30))
                failures.Add("Bounces:CommandTimeout must be between 1 second and 30 minutes");
            if (options.SessionTimeout < options.CommandTimeout || options.SessionTimeout > TimeSpan.FromHours(2))
                failures.Add("Bounces:SessionTimeout must be at least Bounces:CommandTimeout and at most 2 hours");
            return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
        }
    }
}
