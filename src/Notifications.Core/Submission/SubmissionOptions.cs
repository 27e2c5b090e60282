using System.Net;
using Microsoft.Extensions.Options;

namespace Notifications.Core.Submission;

/// <summary>
/// The <c>Submission</c> section: the SMTP submission listener the API host runs for applications that only speak SMTP
/// (docs/submission.md). It is on when <see cref="Listen"/> is set and it can offer AUTH: with a certificate (STARTTLS,
/// and implicit TLS on <see cref="TlsListen"/>), or on a loopback address with <see cref="AllowPlainTextAuth"/>.
/// </summary>
public sealed class SubmissionOptions
{
    public const string Section = "Submission";

    /// <summary>The most any submitted message may be, whatever the setting: the job on the wire is 4/3 of it plus a little.</summary>
    public const int MaxMessageBytesCeiling = 40 * 1024 * 1024;

    /// <summary>Where the listener with STARTTLS listens, <c>address:port</c> (587 in production); empty: no listener.</summary>
    public string Listen { get; set; } = "127.0.0.1:2587";

    /// <summary>Where the listener with implicit TLS listens (465 in production); empty: none.</summary>
    public string TlsListen { get; set; } = "";

    /// <summary>The server certificate, a PEM file (its chain after it); with <see cref="CertificateKey"/>.</summary>
    public string Certificate { get; set; } = "";

    /// <summary>The certificate's private key, a PEM file; never logged.</summary>
    public string CertificateKey { get; set; } = "";

    /// <summary>Offer AUTH without TLS: for a loopback listener in development only (start-up refuses it elsewhere).</summary>
    public bool AllowPlainTextAuth { get; set; }

    /// <summary>The name the listener gives in its greeting and EHLO.</summary>
    public string ServerName { get; set; } = "localhost";

    /// <summary>The largest message taken (advertised as <c>SIZE</c>; <c>552 5.3.4</c> above).</summary>
    public int MaxMessageBytes { get; set; } = 20 * 1024 * 1024;

    /// <summary>Sessions served at once; one more is answered <c>421 4.7.0</c> and closed.</summary>
    public int MaxSessions { get; set; } = 200;

    /// <summary>Sessions served at once to one remote address.</summary>
    public int MaxSessionsPerAddress { get; set; } = 50;

    /// <summary>Failed AUTH attempts one remote address may make in <see cref="FailedAuthWindow"/>; after that every AUTH from it is <c>454 4.7.0</c> until the window has passed.</summary>
    public int MaxFailedAuth { get; set; } = 10;

    public TimeSpan FailedAuthWindow { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How long the listener waits for a client's next command.</summary>
    public TimeSpan CommandTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>The longest a session may last, whatever it does (an application that keeps its connection open reconnects).</summary>
    public TimeSpan SessionTimeout { get; set; } = TimeSpan.FromMinutes(30);

    public bool HasCertificate => Certificate.Length > 0 || CertificateKey.Length > 0;

    /// <summary>Where to listen, parsed; null when not listening.</summary>
    public IPEndPoint? ListenEndPoint() => Listen.Length == 0 ? null : IPEndPoint.Parse(Listen);

    public IPEndPoint? TlsListenEndPoint() => TlsListen.Length == 0 ? null : IPEndPoint.Parse(TlsListen);

    /// <summary>Addresses, limits, and a certificate pair or a loopback-only plain-text AUTH. Never says the key's content.</summary>
    public sealed class Validator : IValidateOptions<SubmissionOptions>
    {
        public ValidateOptionsResult Validate(string? name, SubmissionOptions options)
        {
            var failures = new List<string>();
            IPEndPoint? listen = null, tls = null;
            if (options.Listen.Length > 0 && !IPEndPoint.TryParse(options.Listen, out listen))
                failures.Add($"Submission:Listen must be address:port, e.g. 127.0.0.1:2587 or 0.0.0.0:587, or empty, not '{options.Listen}'");
            if (options.TlsListen.Length > 0 && !IPEndPoint.TryParse(options.TlsListen, out tls))
                failures.Add($"Submission:TlsListen must be address:port, e.g. 0.0.0.0:465, or empty, not '{options.TlsListen}'");
            if ((options.Certificate.Length > 0) != (options.CertificateKey.Length > 0))
                failures.Add("Submission:Certificate and Submission:CertificateKey go together: both PEM files, or neither");
            else if (options.Certificate.Length > 0)
            {
                var missing = new[] { ("Certificate", options.Certificate), ("CertificateKey", options.CertificateKey) }.Where(s => !File.Exists(s.Item2)).ToList();
                foreach (var (setting, path) in missing)
                    failures.Add($"Submission:{setting} names '{path}', which is not a readable file");
                if (missing.Count == 0 && CertificateProblem(options) is { } problem)
                    failures.Add($"Submission:Certificate and Submission:CertificateKey are not a PEM certificate and its private key: {problem}");
            }
            if (tls is not null && !options.HasCertificate)
                failures.Add("Submission:TlsListen needs Submission:Certificate and Submission:CertificateKey");
            if (options.AllowPlainTextAuth && listen is not null && !IPAddress.IsLoopback(listen.Address))
                failures.Add($"Submission:AllowPlainTextAuth is for a loopback listener only; {options.Listen} is not one: give it a certificate");
            if (options.MaxMessageBytes < 64 * 1024 || options.MaxMessageBytes > MaxMessageBytesCeiling)
                failures.Add($"Submission:MaxMessageBytes must be between 65536 and {MaxMessageBytesCeiling}");
            if (options.MaxSessions is < 1 or > 10_000)
                failures.Add("Submission:MaxSessions must be between 1 and 10000");
            if (options.MaxSessionsPerAddress is < 1 or > 10_000)
                failures.Add("Submission:MaxSessionsPerAddress must be between 1 and 10000");
            if (options.MaxFailedAuth is < 1 or > 1_000)
                failures.Add("Submission:MaxFailedAuth must be between 1 and 1000");
            if (options.FailedAuthWindow < TimeSpan.FromSeconds(1) || options.FailedAuthWindow > TimeSpan.FromDays(1))
                failures.Add("Submission:FailedAuthWindow must be between 1 second and 1 day");
            if (options.CommandTimeout < TimeSpan.FromSeconds(1) || options.CommandTimeout > TimeSpan.FromMinutes(30))
                failures.Add("Submission:CommandTimeout must be between 1 second and 30 minutes");
            if (options.SessionTimeout < options.CommandTimeout || options.SessionTimeout > TimeSpan.FromHours(24))
                failures.Add("Submission:SessionTimeout must be at least Submission:CommandTimeout and at most 24 hours");
            if (string.IsNullOrWhiteSpace(options.ServerName) || options.ServerName.Any(c => c <= ' ' || c > '~'))
                failures.Add("Submission:ServerName must be a host name");
            return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
        }

        private static string? CertificateProblem(SubmissionOptions options)
        {
            try
            {
                using var certificate = options.LoadCertificate();
                return certificate.HasPrivateKey ? null : "the key does not belong to the certificate";
            }
            catch (Exception ex) when (ex is System.Security.Cryptography.CryptographicException or ArgumentException)
            {
                return ex.Message; // OpenSSL's words: they name the problem, never the key
            }
        }
    }

    /// <summary>The certificate with its key, from the two PEM files.</summary>
    public System.Security.Cryptography.X509Certificates.X509Certificate2 LoadCertificate() =>
        System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPemFile(Certificate, CertificateKey);

    /// <summary>Why the listener does not run, or null when it does: a listen address and a way to offer AUTH.</summary>
    public string? Off() =>
        Listen.Length == 0 ? "Submission:Listen is empty"
        : !HasCertificate && !AllowPlainTextAuth
            ? "Submission:Certificate and Submission:CertificateKey are not set, and AUTH is offered only over TLS (scripts/up.sh makes a development pair)"
            : null;
}
