using System.Diagnostics;
using System.Text;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;
using Notifications.Tests.Infrastructure;

namespace Notifications.Tests.Integration;

/// <summary>
/// SMTP submission with clients nobody here wrote: Python's smtplib, swaks, and a real Postfix that relays through the
/// service as its relayhost with SASL and <c>smtp_tls_security_level = encrypt</c>. Each message's bytes are compared at
/// the test relay with what was submitted.
/// </summary>
[Collection(PostfixMta.Collection)]
public sealed class SubmissionClientTests : IDisposable
{
    private readonly TestCertificate _certificate = TestCertificate.Create();
    private readonly string _folder = Directory.CreateTempSubdirectory("notifications-submission-").FullName;

    public void Dispose()
    {
        _certificate.Dispose();
        Directory.Delete(_folder, recursive: true);
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(string file, params string[] arguments)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await output + await error);
    }

    [Fact]
    public async Task Python_smtplib_with_STARTTLS_LOGIN_8BITMIME_an_attachment_and_a_Bcc_header_delivers_the_bytes_it_wrote()
    {
        await using var pipeline = await Pipeline.StartAsync(configure: Submitting.Listen(_certificate));
        var at = await pipeline.SubmissionAsync();
        var script = Path.Combine(_folder, "submit.py");
        var written = Path.Combine(_folder, "written.eml");
        await File.WriteAllTextAsync(script, """
            import smtplib, ssl, sys
            from email.message import EmailMessage
            from email.policy import SMTP
            port, user, key, cafile, out = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
            msg = EmailMessage(policy=SMTP)
            msg["From"] = "Billing <billing@example.com>"
            msg["To"] = "Bob <bob@example.com>"
            msg["Bcc"] = "dave@example.net"
            msg["Subject"] = "Grüße aus dem Rechnungswesen"
            msg["Message-ID"] = "<py-1@app.example.com>"
            msg["Date"] = "Mon, 07 Dec 2026 10:00:00 +0000"
            msg.set_content("Hallo Bob,\nanbei die Rechnung. Grüße\n", cte="8bit")
            msg.add_attachment(bytes(range(256)) * 40, maintype="application", subtype="octet-stream", filename="data.bin")
            data = msg.as_bytes()
            open(out, "wb").write(data)
            smtp = smtplib.SMTP("127.0.0.1", int(port), timeout=30)
            smtp.starttls(context=ssl.create_default_context(cafile=cafile))
            smtp.ehlo()
            smtp.login(user, key)
            smtp.mail("billing@example.com", ["BODY=8BITMIME"])
            for rcpt in ["bob@example.com", "dave@example.net"]:
                code, reply = smtp.rcpt(rcpt)
                assert code == 250, (code, reply)
            code, reply = smtp.data(data)
            print(code, reply.decode())
            smtp.quit()
            """);

        var (exit, output) = await RunAsync("python3", script, at.StartTls!.Port.ToString(), TestClients.Name, TestClients.Key, _certificate.PemPath, written);

        Assert.True(exit == 0, output);
        Assert.Contains("250 2.0.0 queued as ", output);
        await Eventually.TrueAsync(() => pipeline.Relay.Accepted.Count == 1, "the mail at the relay");
        var mail = pipeline.Relay.Accepted.Single();
        Assert.Equal(["bob@example.com", "dave@example.net"], mail.Envelope.Order());
        Assert.Empty(mail.Message.Bcc);
        Submitting.AssertDeliveredAsWritten(Submitting.AsDelivered(await File.ReadAllBytesAsync(written)), mail);
        Assert.Equal("Grüße aus dem Rechnungswesen", mail.Message.Subject);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Swaks_with_STARTTLS_or_implicit_TLS_and_AUTH_PLAIN_delivers_the_file_it_was_given(bool implicitTls)
    {
        await using var pipeline = await Pipeline.StartAsync(configure: Submitting.Listen(_certificate));
        var at = await pipeline.SubmissionAsync();
        var message = Encoding.ASCII.GetBytes("""
            From: Alerts <alerts@example.com>
            To: oncall@example.com
            Bcc: manager@example.com
            Subject: [FIRING:1] DiskFull on db-1
            Date: Mon, 07 Dec 2026 10:00:00 +0000
            Message-ID: <alert-7@monitoring.example.com>
            X-Notifications-Priority: high
            X-Notifications-Metadata-alert: DiskFull
            MIME-Version: 1.0
            Content-Type: text/plain; charset=us-ascii

            /var/lib/postgresql is 97% full on db-1.
            ..and a line that starts with a dot.

            """.ReplaceLineEndings("\r\n"));
        // swaks ends the data with a CRLF of its own before the final dot: the file leaves out the last one.
        var file = Path.Combine(_folder, "alert.eml");
        await File.WriteAllBytesAsync(file, message[..^2]);

        var (exit, output) = await RunAsync("swaks", "--server", $"127.0.0.1:{(implicitTls ? at.Tls! : at.StartTls!).Port}",
            implicitTls ? "--tls-on-connect" : "--tls", "--auth", "PLAIN", "--auth-user", TestClients.Name, "--auth-password", TestClients.Key,
            "--from", "alerts@example.com", "--to", "oncall@example.com,manager@example.com", "--data", "@" + file, "--hide-informational");

        Assert.True(exit == 0, output);
        Assert.Contains("250 2.0.0 queued as ", output);
        await Eventually.TrueAsync(() => pipeline.Relay.Accepted.Count == 1, "the alert at the relay");
        var mail = pipeline.Relay.Accepted.Single();
        Assert.Equal(["manager@example.com", "oncall@example.com"], mail.Envelope.Order());
        Submitting.AssertDeliveredAsWritten(Submitting.AsDelivered(message), mail);
        Assert.DoesNotContain("manager@", Encoding.ASCII.GetString(mail.Raw));
    }

    [Fact]
    public async Task A_real_Postfix_relays_through_the_service_as_its_relayhost_with_SASL_and_required_TLS_and_the_bytes_arrive_as_written()
    {
        await using var pipeline = await Pipeline.StartAsync(configure: Submitting.Listen(_certificate));
        var at = await pipeline.SubmissionAsync();
        var port = at.StartTls!.Port;
        await using var postfix = await PostfixMta.StartAsync(new Dictionary<string, int>(), $"""
            relayhost = [127.0.0.1]:{port}
            smtp_sasl_auth_enable = yes
            smtp_sasl_password_maps = inline:{"{"} [127.0.0.1]:{port}={TestClients.Name}:{TestClients.Key} {"}"}
            smtp_sasl_security_options = noanonymous
            smtp_sasl_tls_security_options = noanonymous
            smtp_sasl_mechanism_filter = plain, login
            smtp_tls_security_level = encrypt
            smtp_tls_loglevel = 1
            local_header_rewrite_clients =
            """);
        var written = Encoding.ASCII.GetBytes("""
            From: Wiki <billing@example.com>
            To: Bob <bob@example.com>
            Subject: Page "Runbook" was changed
            Date: Mon, 07 Dec 2026 10:00:00 +0000
            Message-ID: <wiki-123@wiki.example.com>
            MIME-Version: 1.0
            Content-Type: multipart/alternative; boundary="b1"

            --b1
            Content-Type: text/plain; charset=us-ascii

            The page Runbook was changed by alice.
            --b1
            Content-Type: text/html; charset=us-ascii

            <p>The page <a href="https://wiki.example.com/Runbook">Runbook</a> was changed by alice.</p>
            --b1--

            """.ReplaceLineEndings("\r\n"));

        // The application hands the mail to its host's Postfix, which relays everything through the service.
        using (var smtp = new SmtpClient())
        {
            await smtp.ConnectAsync("127.0.0.1", postfix.Port, SecureSocketOptions.None);
            await smtp.SendAsync(MimeMessage.Load(new MemoryStream(written)), MailboxAddress.Parse("billing@example.com"), [MailboxAddress.Parse("bob@example.com")]);
        }

        await Eventually.TrueAsync(() => pipeline.Relay.Accepted.Count == 1, "the mail relayed by Postfix through the service", TimeSpan.FromSeconds(60));
        var mail = pipeline.Relay.Accepted.Single();
        Assert.Equal(["bob@example.com"], mail.Envelope);
        Submitting.AssertDeliveredAsWritten(written, mail);
        Assert.StartsWith("Received: from ", Encoding.ASCII.GetString(mail.Raw)); // Postfix's own, on top
        await Eventually.TrueAsync(() => postfix.Log.Contains("status=sent (250 2.0.0 queued as "), "Postfix logging the service's 250");
        Assert.Contains($"relay=127.0.0.1[127.0.0.1]:{port}", postfix.Log);
        Assert.Matches("TLS connection established to 127\\.0\\.0\\.1\\[127\\.0\\.0\\.1\\]:\\d+: TLSv1\\.[23]", postfix.Log);
    }
}
