using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.DependencyInjection;
using Notifications.Api.Submission;

namespace Notifications.Tests.Infrastructure;

/// <summary>The SMTP submission listener in a test: on ports the OS chooses, with a test certificate; a MailKit client of it.</summary>
public static class Submitting
{
    /// <summary>Settings for a listener with STARTTLS and one with implicit TLS on loopback, with <paramref name="certificate"/>.</summary>
    public static Action<Dictionary<string, string?>> Listen(TestCertificate certificate, Action<Dictionary<string, string?>>? more = null) => settings =>
    {
        settings["Submission:Listen"] = "127.0.0.1:0";
        settings["Submission:TlsListen"] = "127.0.0.1:0";
        settings["Submission:Certificate"] = certificate.PemPath;
        settings["Submission:CertificateKey"] = certificate.KeyPemPath;
        more?.Invoke(settings);
    };

    /// <summary>Where the API's listener listens, once it does.</summary>
    public static async Task<SubmissionEndPoints> SubmissionAsync(this Pipeline pipeline) =>
        await pipeline.ApiServices.GetRequiredService<SubmissionServer>().Listening.WaitAsync(TimeSpan.FromSeconds(30));

    /// <summary>A MailKit client connected with STARTTLS (the test certificate trusted) and authenticated as <paramref name="user"/>.</summary>
    public static async Task<SmtpClient> ConnectAsync(SubmissionEndPoints at, string user = TestClients.Name, string? key = null, bool implicitTls = false)
    {
        var client = new SmtpClient { ServerCertificateValidationCallback = (_, _, _, _) => true, Timeout = 30_000 };
        var endpoint = implicitTls ? at.Tls! : at.StartTls!;
        await client.ConnectAsync("127.0.0.1", endpoint.Port, implicitTls ? SecureSocketOptions.SslOnConnect : SecureSocketOptions.StartTls);
        await client.AuthenticateAsync(user, key ?? TestClients.Key);
        return client;
    }

    /// <summary>The job id in a <c>250 2.0.0 queued as &lt;id&gt;</c> reply.</summary>
    public static string JobIdOf(string reply)
    {
        const string marker = "queued as ";
        var at = reply.IndexOf(marker, StringComparison.Ordinal);
        Assert.True(at >= 0, $"not a 'queued as' reply: {reply}");
        return reply[(at + marker.Length)..].Trim();
    }

    /// <summary>
    /// What the recipient must get of <paramref name="submitted"/>: the same bytes less the headers the service takes out
    /// (X-Notifications-*, Bcc), with CRLF line ends. Header lines are removed whole, with their folded lines.
    /// </summary>
    public static byte[] AsDelivered(byte[] submitted)
    {
        var text = System.Text.Encoding.Latin1.GetString(submitted);
        var end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        var headers = text[..(end + 2)];
        var kept = new System.Text.StringBuilder();
        var dropping = false;
        foreach (var line in headers.Split("\r\n")[..^1])
        {
            if (line.Length == 0 || line[0] is not (' ' or '\t'))
                dropping = line.StartsWith("X-Notifications-", StringComparison.OrdinalIgnoreCase) || line.StartsWith("Bcc:", StringComparison.OrdinalIgnoreCase);
            if (!dropping)
                kept.Append(line).Append("\r\n");
        }
        return System.Text.Encoding.Latin1.GetBytes(kept + text[(end + 2)..]);
    }

    /// <summary>
    /// Asserts the relay got <paramref name="expected"/> byte for byte, after headers the path may put on top
    /// (Received from an MTA on the way, Return-Path, X-Report-Token, List-*, DKIM-Signature, a Message-ID it lacked).
    /// </summary>
    public static void AssertDeliveredAsWritten(byte[] expected, TestRelay.ReceivedMail mail)
    {
        var received = mail.Raw.Concat("\r\n"u8.ToArray()).ToArray(); // the relay's buffer ends before the final CRLF
        Assert.True(received.Length >= expected.Length, $"the relay got {received.Length} bytes, less than the {expected.Length} submitted");
        var prefix = System.Text.Encoding.Latin1.GetString(received, 0, received.Length - expected.Length);
        var tail = received.AsSpan(received.Length - expected.Length);
        Assert.True(tail.SequenceEqual(expected),
            $"the delivered message does not end with the submitted bytes;\n--- delivered:\n{System.Text.Encoding.Latin1.GetString(received)[..Math.Min(received.Length, 3000)]}");
        var added = prefix.Split("\r\n", StringSplitOptions.RemoveEmptyEntries).Where(l => l[0] is not (' ' or '\t')).Select(l => l[..l.IndexOf(':')]);
        Assert.All(added, name => Assert.Contains(name, new[] { "Received", "Return-Path", "X-Report-Token", "List-Id", "List-Unsubscribe",
            "List-Unsubscribe-Post", "DKIM-Signature", "Message-ID" }, StringComparer.OrdinalIgnoreCase));
    }
}
