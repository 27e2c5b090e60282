using System.Net.Sockets;
using MailKit.Net.Smtp;
using Notifications.Core.Contract;

namespace Notifications.Worker.Sending;

/// <summary>What an SMTP failure means for the job (docs/failures.md), and one line to say so.</summary>
public static partial class SmtpFailure
{
    /// <summary>
    /// The relay says "slow down" (a 4xx naming a rate, throttling or too many messages, connections or recipients:
    /// SES's <c>454 Throttling failure</c>, Gmail's <c>421 4.7.28 … rate limited</c>): backpressure, not the job's failure.
    /// </summary>
    public static bool IsThrottle(Exception ex) =>
        Unwrap(ex) is SmtpCommandException { StatusCode: var code } command && (int)code is >= 400 and < 500
        && ThrottleWords().IsMatch(command.Message);

    // Whole words for "rate": "generated", "operation" or "separate" in a reply say nothing about pace.
    [System.Text.RegularExpressions.GeneratedRegex(@"\brate[ds]?\b|\brate[- ]?limit|throttl|too many|slow(ing)? down",
        System.Text.RegularExpressions.RegexOptions.IgnoreCase)]
    private static partial System.Text.RegularExpressions.Regex ThrottleWords();

    public static FailureKind Classify(Exception ex) => Unwrap(ex) switch
    {
        SmtpCommandException command when (int)command.StatusCode is >= 500 and < 600 => FailureKind.Permanent,
        FormatException => FailureKind.Poison,
        _ => FailureKind.Transient, // 4xx, refused, reset, timeout, protocol or TLS trouble: the relay may do better later
    };

    /// <summary>
    /// The relay itself is unreachable or unwilling (not this mail's fault): these feed the circuit breaker.
    /// A 4xx about one mail (greylisting, mailbox busy) does not.
    /// </summary>
    public static bool IsRelayDown(Exception ex) => !IsThrottle(ex) && Unwrap(ex) switch
    {
        SmtpCommandException command => command.StatusCode == SmtpStatusCode.ServiceNotAvailable, // 421
        SocketException or IOException or TimeoutException or SmtpProtocolException => true,
        MailKit.Security.AuthenticationException or MailKit.Security.SslHandshakeException => true,
        _ => false,
    };

    public static string Describe(Exception ex)
    {
        var line = Unwrap(ex) switch
        {
            SmtpCommandException command => $"SMTP {(int)command.StatusCode} {command.ErrorCode}: {command.Message}",
            SocketException socket => $"SMTP connection failed ({socket.SocketErrorCode}): {socket.Message}",
            TimeoutException or OperationCanceledException => "SMTP timeout: " + ex.Message,
            var other => $"{other.GetType().Name}: {other.Message}",
        };
        return JobCodec.OneLine(line);
    }

    /// <summary>A reply as the service shows it: "550 5.1.1 user unknown", on one line.</summary>
    public static string Reply(int code, string text) => JobCodec.OneLine($"{code} {text}".Trim());

    /// <summary>The code of a reply written by <see cref="Reply"/> (0 when there is none).</summary>
    public static int CodeOf(string reply) =>
        reply.Length >= 3 && int.TryParse(reply.AsSpan(0, 3), System.Globalization.CultureInfo.InvariantCulture, out var code) ? code : 0;

    private static Exception Unwrap(Exception ex) =>
        ex is StaleSmtpConnectionException { InnerException: { } inner } ? inner : ex;
}
