using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.DependencyInjection;
using MimeKit;
using Notifications.Api.Backpressure;
using Notifications.Api.Clients;
using Notifications.Core.Store;
using Notifications.Tests.Infrastructure;

namespace Notifications.Tests.Integration;

/// <summary>
/// SMTP submission with MailKit and with raw bytes: a key over TLS sends, as written, under every rule an HTTP caller
/// has; anything else is a clear SMTP reply and nothing queued. (Foreign clients: SubmissionClientTests.)
/// </summary>
public sealed class SubmissionTests : IDisposable
{
    private readonly TestCertificate _certificate = TestCertificate.Create();

    public void Dispose() => _certificate.Dispose();

    /// <summary>A message with a bit of everything: multipart/related with an inline image, an attachment, folded and custom headers.</summary>
    private static byte[] Written(string subject = "Quarterly report", string messageId = "report-42@app.example.com", string extraHeaders = "",
        string from = "Billing <billing@example.com>")
    {
        var png = Convert.ToBase64String(Enumerable.Range(0, 3000).Select(i => (byte)(i * 7)).ToArray(), Base64FormattingOptions.InsertLineBreaks);
        var pdf = Convert.ToBase64String(Enumerable.Range(0, 9000).Select(i => (byte)(i * 13)).ToArray(), Base64FormattingOptions.InsertLineBreaks);
        return Encoding.ASCII.GetBytes($"""
            From: {from}
            To: Bob <bob@example.com>,
             carol@example.org
            Subject: {subject}
            Date: Mon, 07 Dec 2026 10:00:00 +0000
            Message-ID: <{messageId}>
            X-Mailer: ReportBot 3.1
            {extraHeaders}MIME-Version: 1.0
            Content-Type: multipart/mixed; boundary="outer"

            This is a multi-part message in MIME format.
            --outer
            Content-Type: multipart/related; boundary="inner"

            --inner
            Content-Type: text/html; charset=utf-8
            Content-Transfer-Encoding: quoted-printable

            <p>Dear Bob,<br><img src=3D"cid:logo@app"> the report is attached.</p>
            --inner
            Content-Type: image/png; name="logo.png"
            Content-ID: <logo@app>
            Content-Transfer-Encoding: base64

            {png}
            --inner--
            --outer
            Content-Type: application/pdf; name="report.pdf"
            Content-Disposition: attachment; filename="report.pdf"
            Content-Transfer-Encoding: base64

            {pdf}
            --outer--
            .. a line that starts with a dot, after the epilogue

            """.ReplaceLineEndings("\r\n"));
    }

    private static MimeMessage Load(byte[] bytes) => MimeMessage.Load(new MemoryStream(bytes));

    private static Task<JsonElement> StatusWhenAsync(Pipeline pipeline, string id, string status) =>
        Jobs.StatusWhenAsync(pipeline.Http, id, s => s.GetProperty("status").GetString() == status, $"job {id} {status}");

    [Fact]
    public async Task A_message_sent_with_STARTTLS_or_implicit_TLS_and_a_key_reaches_every_envelope_recipient_as_written_Bcc_in_no_header()
    {
        await using var pipeline = await Pipeline.StartAsync(configure: Submitting.Listen(_certificate));
        var at = await pipeline.SubmissionAsync();
        var written = Written();

        using (var smtp = await Submitting.ConnectAsync(at))
        {
            Assert.True(smtp.Capabilities.HasFlag(SmtpCapabilities.Size) && smtp.MaxSize == 20 * 1024 * 1024, "SIZE 20971520 advertised");
            var reply = await smtp.SendAsync(Load(written), MailboxAddress.Parse("billing@example.com"),
                [MailboxAddress.Parse("bob@example.com"), MailboxAddress.Parse("carol@example.org"), MailboxAddress.Parse("dave@example.net")]);
            var id = Submitting.JobIdOf(reply);
            Assert.StartsWith("2.0.0 queued as ", reply);

            await Eventually.TrueAsync(() => pipeline.Relay.Accepted.Count == 1, "the mail at the relay");
            var mail = pipeline.Relay.Accepted.Single();
            Assert.Equal(["bob@example.com", "carol@example.org", "dave@example.net"], mail.Envelope.Order());
            Assert.Empty(mail.Message.Bcc);
            Assert.DoesNotContain("dave@", Encoding.Latin1.GetString(mail.Raw));
            Submitting.AssertDeliveredAsWritten(Submitting.AsDelivered(written), mail);
            await StatusWhenAsync(pipeline, id, "sent");
        }

        // The same over implicit TLS, another message.
        using (var smtp = await Submitting.ConnectAsync(at, implicitTls: true))
        {
            var second = Written("Second report", "report-43@app.example.com");
            Submitting.JobIdOf(await smtp.SendAsync(Load(second), MailboxAddress.Parse("billing@example.com"), [MailboxAddress.Parse("bob@example.com")]));
            await Eventually.TrueAsync(() => pipeline.Relay.Accepted.Count == 2, "the second mail");
            Submitting.AssertDeliveredAsWritten(Submitting.AsDelivered(second), pipeline.Relay.Accepted[1]);
        }
    }

    [Fact]
    public async Task AUTH_is_offered_only_after_TLS_nothing_is_taken_without_it_and_an_address_that_keeps_failing_is_locked_out()
    {
        await using var pipeline = await Pipeline.StartAsync(worker: false, configure: Submitting.Listen(_certificate));
        var at = await pipeline.SubmissionAsync();

        await using (var raw = await RawSmtp.ConnectAsync(at.StartTls!.Port))
        {
            var ehlo = await raw.CommandAsync("EHLO app.example.com");
            Assert.Contains("STARTTLS", ehlo);
            Assert.Contains("SIZE 20971520", ehlo);
            Assert.DoesNotContain("AUTH", ehlo);
            var auth = await raw.CommandAsync("AUTH PLAIN " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"\0{TestClients.Name}\0{TestClients.Key}")));
            Assert.StartsWith("5", auth);
            Assert.StartsWith("530", await raw.CommandAsync("MAIL FROM:<billing@example.com>"));
        }

        // Ten failures from one address (three a session, the most one allows), then even the right key is refused.
        var failures = 0;
        while (failures < 10)
        {
            using var smtp = new SmtpClient { ServerCertificateValidationCallback = (_, _, _, _) => true };
            await smtp.ConnectAsync("127.0.0.1", at.StartTls!.Port, SecureSocketOptions.StartTls);
            smtp.AuthenticationMechanisms.Remove("LOGIN"); // one mechanism: one failed try a call
            for (var i = 0; i < 3 && failures < 10; i++, failures++)
                await Assert.ThrowsAsync<AuthenticationException>(() => smtp.AuthenticateAsync(TestClients.Name, TestClients.NewKey()));
        }
        using (var smtp = new SmtpClient { ServerCertificateValidationCallback = (_, _, _, _) => true })
        {
            await smtp.ConnectAsync("127.0.0.1", at.StartTls!.Port, SecureSocketOptions.StartTls);
            var locked = await Assert.ThrowsAnyAsync<Exception>(() => smtp.AuthenticateAsync(TestClients.Name, TestClients.Key));
            Assert.Contains("4.7.0 Too many failed authentications", locked.Message);
        }
        Assert.Equal(0u, await pipeline.Queues.CountAsync(pipeline.Names.SendQueue));
    }

    [Fact]
    public async Task A_client_is_held_to_its_senders_recipients_rate_pause_and_the_queue_depth_each_answered_with_its_own_code()
    {
        await using var pipeline = await Pipeline.StartAsync(worker: false, configure: Submitting.Listen(_certificate, s =>
        {
            s[$"Clients:{TestClients.Name}:RatePerSecond"] = "1"; // the test is about the rate (and the depth) among the rest
            s[$"Clients:{TestClients.Name}:Burst"] = "6";
            s["Api:MaxQueueDepth"] = "1";
        }));
        var at = await pipeline.SubmissionAsync();
        using var smtp = await Submitting.ConnectAsync(at);
        var bob = MailboxAddress.Parse("bob@example.com");

        var sender = await Assert.ThrowsAsync<SmtpCommandException>(() => smtp.SendAsync(Load(Written()), MailboxAddress.Parse("mallory@example.com"), [bob]));
        Assert.Equal((550, SmtpErrorCode.SenderNotAccepted), ((int)sender.StatusCode, sender.ErrorCode));
        Assert.Contains("5.7.1", sender.Message);

        var fromHeader = await Assert.ThrowsAsync<SmtpCommandException>(() =>
            smtp.SendAsync(Load(Written(from: "Mallory <mallory@example.com>")), MailboxAddress.Parse("billing@example.com"), [bob]));
        Assert.Equal(550, (int)fromHeader.StatusCode);
        Assert.Contains("5.7.1 From 'mallory@example.com'", fromHeader.Message);

        var many = Enumerable.Range(0, 51).Select(i => MailboxAddress.Parse($"r{i}@example.com")).ToList();
        var recipients = await Assert.ThrowsAsync<SmtpCommandException>(() => smtp.SendAsync(Load(Written()), MailboxAddress.Parse("billing@example.com"), many));
        Assert.Equal(452, (int)recipients.StatusCode);
        Assert.Contains("4.5.3", recipients.Message);

        // Two go through (one to fill the lane past Api:MaxQueueDepth), then the depth sample refuses the next.
        Submitting.JobIdOf(await smtp.SendAsync(Load(Written("one", "one@app")), MailboxAddress.Parse("billing@example.com"), [bob]));
        Submitting.JobIdOf(await smtp.SendAsync(Load(Written("two", "two@app")), MailboxAddress.Parse("billing@example.com"), [bob]));
        var monitor = pipeline.ApiServices.GetRequiredService<QueueDepthMonitor>();
        await Eventually.TrueAsync(() => monitor.Depth() == 2, "the depth sample to see 2 jobs", QueueDepthMonitor.Interval * 10);
        var deep = await Assert.ThrowsAsync<SmtpCommandException>(() => smtp.SendAsync(Load(Written("three", "three@app")), MailboxAddress.Parse("billing@example.com"), [bob]));
        Assert.Equal(452, (int)deep.StatusCode);
        Assert.Contains("4.3.1", deep.Message);

        // The bucket (burst 6) is spent soon: the next MAIL FROM is refused for the rate.
        var rate = await Eventually.ReturnsAsync(async () =>
        {
            try
            {
                await smtp.SendAsync(Load(Written("four", "four@app")), MailboxAddress.Parse("billing@example.com"), [bob]);
                return null;
            }
            catch (SmtpCommandException ex)
            {
                return ex;
            }
        }, ex => ex is { StatusCode: (SmtpStatusCode)451 }, "a 451 for the rate");
        Assert.Contains("4.7.1 Rate limit", rate!.Message);

        var reputation = pipeline.ApiServices.GetRequiredService<IReputation>();
        await reputation.PauseClientAsync(TestClients.Name, "bounce rate 9.1 % over 5 %", DateTimeOffset.UtcNow, CancellationToken.None);
        await pipeline.ApiServices.GetRequiredService<PausedClients>().RefreshAsync(CancellationToken.None);
        var paused = await Assert.ThrowsAsync<SmtpCommandException>(() => smtp.SendAsync(Load(Written()), MailboxAddress.Parse("billing@example.com"), [bob]));
        Assert.Equal(451, (int)paused.StatusCode);
        Assert.Contains("4.7.1 Client 'tests' is paused by the reputation guard: bounce rate 9.1 % over 5 %", paused.Message);

        Assert.Equal(2u, await pipeline.Queues.CountAsync(pipeline.Names.SendQueue));
    }

    [Fact]
    public async Task The_control_headers_set_list_priority_metadata_and_send_time_and_leave_the_mail_and_it_is_in_the_message_log_as_smtp()
    {
        await using var pipeline = await Pipeline.StartAsync(configure: Submitting.Listen(_certificate, s =>
        {
            s["Unsubscribe:BaseUrl"] = "https://mail.example.com";
            s["Unsubscribe:Secret"] = Convert.ToBase64String(new byte[32]);
        }));
        var at = await pipeline.SubmissionAsync();
        using var smtp = await Submitting.ConnectAsync(at);
        var listMail = Written("Our December news", "news-1@app", "X-Notifications-List: newsletter\r\nX-Notifications-Priority: high\r\n" +
            "X-Notifications-Metadata-tenant: acme\r\nX-Notifications-Metadata-campaign: dec-2026\r\n");
        var id = Submitting.JobIdOf(await smtp.SendAsync(Load(listMail), MailboxAddress.Parse("billing@example.com"), [MailboxAddress.Parse("bob@example.com")]));

        await Eventually.TrueAsync(() => pipeline.Relay.Accepted.Count == 1, "the list mail");
        var mail = pipeline.Relay.Accepted.Single();
        Submitting.AssertDeliveredAsWritten(Submitting.AsDelivered(listMail), mail);
        Assert.StartsWith("<https://mail.example.com/unsubscribe/", mail.Message.Headers["List-Unsubscribe"]);
        Assert.DoesNotContain(mail.Message.Headers, h => h.Field.StartsWith("X-Notifications-", StringComparison.OrdinalIgnoreCase));

        var logged = await Jobs.MessageWhenAsync(pipeline.Http, id, m => m.GetProperty("status").GetString() == "sent"
            && m.GetProperty("events").EnumerateArray().Any(e => e.GetProperty("type").GetString() == "accepted"), "the message logged as accepted and sent");
        Assert.Equal("smtp", logged.GetProperty("via").GetString());
        Assert.Equal("newsletter", logged.GetProperty("list").GetString());
        Assert.Equal("high", logged.GetProperty("priority").GetString());
        Assert.Equal("acme", logged.GetProperty("metadata").GetProperty("tenant").GetString());
        Assert.Equal("Our December news", logged.GetProperty("subject").GetString());
        var found = await pipeline.Http.GetFromJsonAsync<JsonElement>("/api/messages?metadata[tenant]=acme");
        Assert.Equal(id, found.GetProperty("items")[0].GetProperty("id").GetString());

        // Send-At: scheduled, not sent yet.
        var later = DateTimeOffset.UtcNow.AddHours(2).ToString("yyyy-MM-ddTHH:mm:ssZ");
        var scheduled = Submitting.JobIdOf(await smtp.SendAsync(Load(Written("Later", "later@app", $"X-Notifications-Send-At: {later}\r\n")),
            MailboxAddress.Parse("billing@example.com"), [MailboxAddress.Parse("bob@example.com")]));
        await StatusWhenAsync(pipeline, scheduled, "scheduled");
        var waiting = await Jobs.MessageWhenAsync(pipeline.Http, scheduled, m => m.TryGetProperty("sendAt", out _), "the scheduled message in the log");
        Assert.Equal(DateTimeOffset.Parse(later), waiting.GetProperty("sendAt").GetDateTimeOffset());
        await Eventually.NeverAsync(() => pipeline.Relay.Accepted.Count > 1, "the scheduled mail sent early", TimeSpan.FromSeconds(1));
    }

    [Fact]
    public async Task A_message_resubmitted_with_its_Message_ID_is_the_same_job_sent_once_and_one_without_gets_a_Message_ID_naming_its_job()
    {
        await using var pipeline = await Pipeline.StartAsync(configure: Submitting.Listen(_certificate));
        var at = await pipeline.SubmissionAsync();
        using var smtp = await Submitting.ConnectAsync(at);
        var billing = MailboxAddress.Parse("billing@example.com");
        var bob = MailboxAddress.Parse("bob@example.com");

        var first = Submitting.JobIdOf(await smtp.SendAsync(Load(Written()), billing, [bob]));
        await Eventually.TrueAsync(() => pipeline.Relay.Accepted.Count == 1, "the mail");
        var again = Submitting.JobIdOf(await smtp.SendAsync(Load(Written()), billing, [bob]));
        Assert.Equal(first, again);
        var other = await Assert.ThrowsAsync<SmtpCommandException>(() => smtp.SendAsync(Load(Written("Something else")), billing, [bob]));
        Assert.Equal(554, (int)other.StatusCode);
        Assert.Contains("Message-ID <report-42@app.example.com> was already submitted with other content", other.Message);

        var bare = Encoding.ASCII.GetBytes("From: billing@example.com\r\nTo: bob@example.com\r\nSubject: no id\r\n\r\nhello\r\n");
        var id = await SendExactAsync(at, bare);
        await Eventually.TrueAsync(() => pipeline.Relay.Accepted.Count == 2, "the mail without a Message-ID");
        var mail = pipeline.Relay.Accepted[1];
        Assert.Equal($"{id}@example.com", mail.Message.MessageId);
        Submitting.AssertDeliveredAsWritten(bare, mail);
        await Eventually.NeverAsync(() => pipeline.Relay.Accepted.Count > 2, "the resubmission sent again", TimeSpan.FromSeconds(2));
    }

    /// <summary>Sends <paramref name="message"/> as MimeKit read it (written back byte for byte) on a new session; its job id.</summary>
    private static async Task<string> SendExactAsync(Notifications.Api.Submission.SubmissionEndPoints at, byte[] message)
    {
        using var smtp = await Submitting.ConnectAsync(at);
        var reply = await smtp.SendAsync(Load(message), MailboxAddress.Parse("billing@example.com"), [MailboxAddress.Parse("bob@example.com")]);
        return Submitting.JobIdOf(reply);
    }

    [Fact]
    public async Task A_submitted_message_gets_the_return_path_and_DKIM_signatures_on_top_that_an_independent_verifier_accepts()
    {
        using var keys = new DkimTestKeys();
        await using var pipeline = await Pipeline.StartAsync(configure: Submitting.Listen(_certificate, s =>
        {
            keys.Configure(s);
            s["Bounces:Domain"] = "bounces.example.com";
            s["Bounces:Secret"] = Convert.ToBase64String(new byte[32]) + "and-some-more";
        }));
        var at = await pipeline.SubmissionAsync();
        using var smtp = await Submitting.ConnectAsync(at);
        var written = Written();

        var id = Submitting.JobIdOf(await smtp.SendAsync(Load(written), MailboxAddress.Parse("billing@example.com"), [MailboxAddress.Parse("bob@example.com")]));

        await Eventually.TrueAsync(() => pipeline.Relay.Accepted.Count == 1, "the signed mail");
        var mail = pipeline.Relay.Accepted.Single();
        Submitting.AssertDeliveredAsWritten(Submitting.AsDelivered(written), mail);
        Assert.StartsWith("b+", mail.Sender);
        Assert.EndsWith("@bounces.example.com", mail.Sender);
        Assert.Equal(mail.Sender, mail.Message.Headers[Notifications.Core.Bounces.InboundHeaders.ReportToken]);
        var independent = await DkimVerifiers.Independent(mail.Raw, keys.Records);
        Assert.Equal(2, independent.Count);
        Assert.All(independent, s => Assert.True(s.Verified, $"python3-dkim: the signature of {s.Selector} does not verify"));
        Assert.All(DkimVerifiers.MimeKit(mail.Raw, keys.Records), s => Assert.True(s.Verified, $"MimeKit: {s.Algorithm} does not verify"));
        await StatusWhenAsync(pipeline, id, "sent");
    }

    [Fact]
    public async Task An_unreachable_broker_is_451_4_3_0_so_the_sender_tries_again_and_nothing_is_lost()
    {
        await using var pipeline = await Pipeline.StartAsync(api: false, worker: false,
            configure: Submitting.Listen(_certificate, s => s["RabbitMq:Uri"] = "amqp://guest:guest@127.0.0.1:1/"));
        await pipeline.StartApiAsync(waitForBroker: false);
        var at = await pipeline.SubmissionAsync();
        using var smtp = await Submitting.ConnectAsync(at);

        var refused = await Assert.ThrowsAsync<SmtpCommandException>(() =>
            smtp.SendAsync(Load(Written()), MailboxAddress.Parse("billing@example.com"), [MailboxAddress.Parse("bob@example.com")]));

        Assert.Equal(451, (int)refused.StatusCode);
        Assert.Contains("4.3.0", refused.Message);
        Assert.True(smtp.IsConnected, "the session goes on");
    }

    public static TheoryData<string, string, string?, string> BadMessages => new()
    {
        { "bare LF", "From: billing@example.com\r\nTo: bob@example.com\r\nSubject: s\r\n\r\nline one\nline two\r\n", null, "554 5.6.0 Bare LF on line 5" },
        { "a line over 998", "From: billing@example.com\r\nTo: bob@example.com\r\nSubject: s\r\n\r\n" + new string('x', 999) + "\r\n", null, "554 5.6.0 Line 5 is 999 characters long" },
        { "8-bit without 8BITMIME", "From: billing@example.com\r\nTo: bob@example.com\r\nSubject: s\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nGr\u00fc\u00dfe\r\n", null, "554 5.6.0 8-bit data on line 7 without BODY=8BITMIME" },
        { "two From addresses", "From: billing@example.com, alerts@example.com\r\nTo: bob@example.com\r\nSubject: s\r\n\r\nhi\r\n", null, "554 5.6.0 From must name exactly one mailbox" },
        { "no From", "To: bob@example.com\r\nSubject: s\r\n\r\nhi\r\n", null, "554 5.6.0 The message has no From header" },
        { "an encoded line break in the subject", "From: billing@example.com\r\nTo: bob@example.com\r\nSubject: =?utf-8?Q?hi=0D=0ABcc:_victim@example.net?=\r\n\r\nhi\r\n", null, "554 5.7.0 Header injection: the Subject header carries a line break" },
        { "a second Subject", "From: billing@example.com\r\nTo: bob@example.com\r\nSubject: s\r\nSubject: t\r\n\r\nhi\r\n", null, "554 5.7.0 Header injection: the message has more than one Subject header" },
        { "an unknown control header", "From: billing@example.com\r\nTo: bob@example.com\r\nSubject: s\r\nX-Notifications-Lsit: news\r\n\r\nhi\r\n", null, "554 5.6.0 Unknown control header X-Notifications-Lsit" },
        { "a bad send time", "From: billing@example.com\r\nTo: bob@example.com\r\nSubject: s\r\nX-Notifications-Send-At: tomorrow\r\n\r\nhi\r\n", null, "554 5.6.0 X-Notifications-Send-At:" },
        { "51 metadata headers", "From: billing@example.com\r\nTo: bob@example.com\r\nSubject: s\r\n"
            + string.Concat(Enumerable.Range(0, 51).Select(i => $"X-Notifications-Metadata-k{i}: v\r\n")) + "\r\nhi\r\n", null,
            "554 5.6.0 X-Notifications-Metadata-*: at most 50 metadata entries" },
        { "not MIME at all", "\u0001\u0002 just some bytes\r\n", null, "554 5.6.0" },
        { "a declared size over the limit", "From: billing@example.com\r\nTo: bob@example.com\r\nSubject: s\r\n\r\nhi\r\n", "SIZE=30000000", "552" },
    };

    [Theory]
    [MemberData(nameof(BadMessages))]
    public async Task Bad_input_is_a_clear_5xx_nothing_is_queued_and_the_session_goes_on(string what, string message, string? mailParameters, string expected)
    {
        // Plain-text AUTH on loopback (the setting this test uses to speak raw SMTP without TLS).
        await using var pipeline = await Pipeline.StartAsync(worker: false, configure: s =>
        {
            s["Submission:Listen"] = "127.0.0.1:0";
            s["Submission:AllowPlainTextAuth"] = "true";
        });
        var at = await pipeline.SubmissionAsync();
        await using var raw = await RawSmtp.ConnectAsync(at.StartTls!.Port);
        Assert.Contains("AUTH PLAIN LOGIN", await raw.CommandAsync("EHLO app.example.com"));
        Assert.StartsWith("235", await raw.CommandAsync("AUTH PLAIN " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"\0{TestClients.Name}\0{TestClients.Key}"))));

        var reply = await SendRawAsync(raw, Encoding.Latin1.GetBytes(message), mailParameters);
        Assert.True(reply.StartsWith(expected, StringComparison.Ordinal), $"{what}: {reply}");

        // The session goes on, and a good message after it is taken.
        var good = await SendRawAsync(raw, Encoding.ASCII.GetBytes("From: billing@example.com\r\nTo: bob@example.com\r\nSubject: fine\r\n\r\nhi\r\n"), null);
        Assert.StartsWith("250 2.0.0 queued as ", good);
        Assert.Equal(1u, await pipeline.Queues.CountAsync(pipeline.Names.SendQueue));
    }

    [Fact]
    public async Task Garbage_in_AUTH_or_commands_ends_at_most_that_session_and_the_listener_keeps_serving()
    {
        await using var pipeline = await Pipeline.StartAsync(worker: false, configure: s =>
        {
            s["Submission:Listen"] = "127.0.0.1:0";
            s["Submission:AllowPlainTextAuth"] = "true"; // raw SMTP without TLS, on loopback
        });
        var at = await pipeline.SubmissionAsync();
        foreach (var garbage in new[] { "AUTH PLAIN %%%not-base64%%%", "AUTH LOGIN ####", "MAIL FROM:<<<>>>", "", new string('A', 5000) })
        {
            await using var raw = await RawSmtp.ConnectAsync(at.StartTls!.Port);
            await raw.CommandAsync("EHLO app.example.com");
            try
            {
                var reply = await raw.CommandAsync(garbage);
                Assert.False(reply.StartsWith('2'), $"'{garbage[..Math.Min(20, garbage.Length)]}' was taken: {reply}");
            }
            catch (IOException)
            {
                // The session was ended: all a stranger's garbage may cost it.
            }
        }
        await using var after = await RawSmtp.ConnectAsync(at.StartTls!.Port);
        Assert.StartsWith("220", after.Greeting);
        await after.CommandAsync("EHLO app.example.com");
        Assert.StartsWith("235", await after.CommandAsync("AUTH PLAIN " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"\0{TestClients.Name}\0{TestClients.Key}"))));
    }

    /// <summary>MAIL FROM, RCPT TO, DATA, the bytes as they are (dot-stuffed only) and the final dot; the first refusal ends it.</summary>
    private static async Task<string> SendRawAsync(RawSmtp raw, byte[] message, string? mailParameters)
    {
        var reply = await raw.CommandAsync("MAIL FROM:<billing@example.com>" + (mailParameters is null ? "" : " " + mailParameters));
        if (!reply.StartsWith("250", StringComparison.Ordinal))
            return reply;
        reply = await raw.CommandAsync("RCPT TO:<bob@example.com>");
        if (!reply.StartsWith("250", StringComparison.Ordinal))
            return reply;
        reply = await raw.CommandAsync("DATA");
        if (!reply.StartsWith("354", StringComparison.Ordinal))
            return reply;
        await raw.Stream.WriteAsync(message);
        await raw.Stream.WriteAsync(".\r\n"u8.ToArray());
        return await raw.ReplyAsync();
    }
}
