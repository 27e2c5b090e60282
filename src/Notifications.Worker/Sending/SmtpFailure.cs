using System.Net.Sockets;
using MailKit.Net.Smtp;
using Notifications.Core.Contract;

namespace Notifications.Worker.Sending;

/// <summary>What an SMTP failure means for the job (DESIGN.md, failure table), and one line to say so.</summary>
public static class SmtpFailure
{
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
    public static bool IsRelayDown(Exception ex) => Unwrap(ex) switch
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

    private static Exception Unwrap(Exception ex) =>
        ex is StaleSmtpConnectionException { InnerException: { } inner } ? inner : ex;
}
