using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Notifications.Contracts;
using Notifications.Core.Bounces;
using Notifications.Core.Webhooks;
using Notifications.Tests.Infrastructure;
using Notifications.Core.Clients;

namespace Notifications.Tests.Integration;

/// <summary>
/// Bounces and complaints that come back after the relay's yes, end to end: the job is sent with its own return path, a
/// report comes back over SMTP to the inbound receiver, and the job, the suppression list, the events and the signed
/// webhooks say so within seconds. What is not ours, not readable or too big never gets in, and nothing is lost.
/// </summary>
public sealed class BounceTests
{
    private static readonly string Secret = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
    private static readonly string HookSecret = WebhookSecret.New();

    private static Task<Pipeline> StartAsync(WebhookReceiver? receiver = null, Action<Dictionary<string, string?>>? configure = null) =>
        Pipeline.StartAsync(configure: s =>
        {
            s["Bounces:Domain"] = BounceSamples.Domain;
            s["Bounces:Secret"] = Secret;
            if (receiver is not null)
            {
                s[$"Clients:{TestClients.Name}:Webhook:Url"] = receiver.Url("/tests");
                s[$"Clients:{TestClients.Name}:Webhook:Secret"] = HookSecret;
            }
            configure?.Invoke(s);
        });

    /// <summary>Sends one mail to <paramref name="to"/>; answers its job id and the envelope sender the relay saw.</summary>
    private static async Task<(string Id, string ReturnPath)> SendAsync(Pipeline pipeline, string to)
    {
        var id = await Jobs.PostAndGetIdAsync(pipeline.Http, new { to = new[] { to }, subject = "Your invoice", text = "Attached." });
        await Eventually.TrueAsync(() => pipeline.Relay.AcceptedJobIds.Contains(id), "the mail at the relay");
        var mail = pipeline.Relay.Accepted.Single(m => m.Message.MessageId!.StartsWith(id, StringComparison.Ordinal));
        return (id, mail.Sender);
    }

    private static async Task<string> DeliverAsync(int port, byte[] report, string rcpt)
    {
        await using var smtp = await RawSmtp.ConnectAsync(port);
        return await smtp.SendAsync("", [rcpt], report);
    }

    private static async Task<JsonElement> StatusAsync(Pipeline pipeline, string id, Func<JsonElement, bool> done, string what) =>
        await Eventually.ReturnsAsync(async () => await pipeline.Http.GetFromJsonAsync<JsonElement>($"/api/emails/{id}"), done, what);

    private static bool Lists(JsonElement status, string list, string address) =>
        status.TryGetProperty("recipients", out var recipients) && recipients.ValueKind == JsonValueKind.Object
        && recipients.TryGetProperty(list, out var entries)
        && entries.EnumerateArray().Any(e => (e.ValueKind == JsonValueKind.String ? e.GetString() : e.GetProperty("address").GetString()) == address);

    [Fact]
    public async Task A_DSN_to_the_return_path_makes_the_recipient_bounced_suppresses_it_and_fires_a_signed_webhook_and_an_event()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var pipeline = await StartAsync(receiver);
        await using var subscriber = await SampleSubscriber.StartAsync(pipeline.Settings["RabbitMq:Uri"]!, pipeline.Names.Prefix);
        var port = await pipeline.StartInboundAsync();
        var (id, returnPath) = await SendAsync(pipeline, "Bob <bob@example.org>");

        // The envelope sender is the job's own return path; the From header is the client's sender, unchanged.
        Assert.Matches($@"^b\+{id}\.[a-z2-7]{{10}}@{BounceSamples.Domain.Replace(".", @"\.")}$", returnPath);
        Assert.Equal("no-reply@example.com", pipeline.Relay.Accepted.Single(m => m.Message.MessageId!.StartsWith(id)).Message.From.Mailboxes.Single().Address);

        var reply = await DeliverAsync(port, BounceSamples.Load("postfix-hard", id, returnPath), returnPath);
        Assert.StartsWith("250", reply);

        var status = await StatusAsync(pipeline, id, s => Lists(s, "bounced", "bob@example.org"), "bob bounced on the job");
        Assert.Equal("sent", status.GetProperty("status").GetString());
        Assert.Contains("5.1.1", status.GetProperty("recipients").GetProperty("bounced")[0].GetProperty("reply").GetString());
        var suppression = await pipeline.Http.GetFromJsonAsync<JsonElement>("/api/suppressions/bob@example.org");
        Assert.StartsWith("bounced: 5.1.1", suppression.GetProperty("reason").GetString());
        var hook = await Eventually.ReturnsAsync(() => Task.FromResult(receiver.Received.FirstOrDefault(c => c.Type == WebhookEvent.Bounced)),
            c => c is not null, "the email.bounced webhook");
        StandardWebhookVerifier.Verify(HookSecret, hook!);
        Assert.Equal(id, hook!.Data.GetProperty("id").GetString());
        Assert.Equal("bob@example.org", hook.Data.GetProperty("recipient").GetString());
        Assert.Equal("5.1.1", hook.Data.GetProperty("bounceStatus").GetString());
        var bounced = await Eventually.ReturnsAsync(() => Task.FromResult(subscriber.Of<EmailBounced>(id).FirstOrDefault()), e => e is not null, "EmailBounced");
        Assert.Equal("bob@example.org", bounced!.Recipient);
        Assert.Equal(TestClients.Name, bounced.Client);

        // The next mail to bob is not sent.
        var next = await Jobs.PostAndGetIdAsync(pipeline.Http, new { to = new[] { "bob@example.org" }, subject = "Again", text = "Hi." });
        await StatusAsync(pipeline, next, s => s.GetProperty("status").GetString() == "suppressed", "the next job suppressed");
    }

    [Fact]
    public async Task A_complaint_suppresses_the_address_for_that_client_and_fires_email_complained()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var pipeline = await StartAsync(receiver);
        await using var subscriber = await SampleSubscriber.StartAsync(pipeline.Settings["RabbitMq:Uri"]!, pipeline.Names.Prefix);
        var port = await pipeline.StartInboundAsync();
        var (id, returnPath) = await SendAsync(pipeline, "grace@aol.example");

        Assert.StartsWith("250", await DeliverAsync(port, BounceSamples.Load("arf-complaint", id, returnPath), returnPath));

        await StatusAsync(pipeline, id, s => Lists(s, "complained", "grace@aol.example"), "grace complained on the job");
        var hook = await Eventually.ReturnsAsync(() => Task.FromResult(receiver.Received.FirstOrDefault(c => c.Type == WebhookEvent.Complained)),
            c => c is not null, "the email.complained webhook");
        StandardWebhookVerifier.Verify(HookSecret, hook!);
        Assert.Equal("abuse", hook!.Data.GetProperty("feedbackType").GetString());
        var complained = await Eventually.ReturnsAsync(() => Task.FromResult(subscriber.Of<EmailComplained>(id).FirstOrDefault()), e => e is not null, "EmailComplained");
        Assert.Equal("grace@aol.example", complained!.Recipient);
        var entries = await pipeline.Http.GetFromJsonAsync<JsonElement>("/api/suppressions");
        var entry = entries.GetProperty("items").EnumerateArray().Single(e => e.GetProperty("address").GetString() == "grace@aol.example");
        Assert.Equal("complaint", entry.GetProperty("source").GetString());
        // Asked for by address alone, the complaint's entry is the answer: the client's mail to grace is held back.
        var lookup = await pipeline.Http.GetFromJsonAsync<JsonElement>("/api/suppressions/grace@aol.example");
        Assert.Equal(("client", "complaint"), (lookup.GetProperty("scope").GetString(), lookup.GetProperty("source").GetString()));

        var next = await Jobs.PostAndGetIdAsync(pipeline.Http, new { to = new[] { "grace@aol.example" }, subject = "More offers", text = "Hi." });
        await StatusAsync(pipeline, next, s => s.GetProperty("status").GetString() == "suppressed", "the client's next mail to grace held back");
    }

    [Fact]
    public async Task A_delay_only_tells_and_a_soft_bounce_is_recorded_without_suppressing()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var pipeline = await StartAsync(receiver);
        var port = await pipeline.StartInboundAsync();
        var (id, returnPath) = await SendAsync(pipeline, "peggy@example.org");
        var (softId, softPath) = await SendAsync(pipeline, "quentin@example.org");

        Assert.StartsWith("250", await DeliverAsync(port, BounceSamples.Load("delayed", id, returnPath), returnPath));
        Assert.StartsWith("250", await DeliverAsync(port, BounceSamples.Load("soft-expired", softId, softPath), softPath));

        var hook = await Eventually.ReturnsAsync(() => Task.FromResult(receiver.Received.FirstOrDefault(c => c.Type == WebhookEvent.Delayed)),
            c => c is not null, "the email.delayed webhook");
        Assert.Equal("peggy@example.org", hook!.Data.GetProperty("recipient").GetString());
        await StatusAsync(pipeline, softId, s => Lists(s, "softBounced", "quentin@example.org"), "quentin soft-bounced on the job");
        foreach (var address in new[] { "peggy@example.org", "quentin@example.org" })
            Assert.Equal(HttpStatusCode.NotFound, (await pipeline.Http.GetAsync($"/api/suppressions/{address}")).StatusCode);
        Assert.DoesNotContain(receiver.Received, c => c.Type == WebhookEvent.Bounced);
    }

    [Fact]
    public async Task A_recipient_forging_reports_suppresses_nobody_fires_nothing_and_cannot_pause_the_client_while_the_genuine_bounce_counts()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var pipeline = await StartAsync(receiver);
        await using var subscriber = await SampleSubscriber.StartAsync(pipeline.Settings["RabbitMq:Uri"]!, pipeline.Names.Prefix);
        var port = await pipeline.StartInboundAsync();
        // Mallory receives one mail, with carol; she reads its return path, token header and Message-ID.
        var id = await Jobs.PostAndGetIdAsync(pipeline.Http, new { to = new[] { "mallory@example.org" }, cc = new[] { "carol@example.org" },
            subject = "Your invoice", text = "Attached." });
        await Eventually.TrueAsync(() => pipeline.Relay.AcceptedJobIds.Contains(id), "the mail at the relay");
        var mail = pipeline.Relay.Accepted.Single(m => m.Message.MessageId!.StartsWith(id, StringComparison.Ordinal));
        var returnPath = mail.Sender;
        Assert.Equal(returnPath, mail.Message.Headers[InboundHeaders.ReportToken]);
        var strangers = Enumerable.Range(1, 30).Select(i => $"victim{i}@example.net").ToArray();
        var plain = $"postmaster@{BounceSamples.Domain}";

        // 1. To a plain address of the bounce domain, naming the job by Original-Envelope-Id and Message-ID only.
        Assert.StartsWith("250", await DeliverAsync(port, ForgedDsn(id, null, strangers), plain));
        Assert.StartsWith("250", await DeliverAsync(port, ForgedDsn(id, null, ["mallory@example.org", "carol@example.org"]), plain));
        Assert.StartsWith("250", await DeliverAsync(port, ForgedComplaint(id, null, "carol@example.org"), $"abuse@{BounceSamples.Domain}"));
        // 2. Through what verifies (the job's return path, or its token quoted in the returned mail), naming strangers.
        Assert.StartsWith("250", await DeliverAsync(port, ForgedDsn(id, returnPath, strangers), returnPath));
        Assert.StartsWith("250", await DeliverAsync(port, ForgedComplaint(id, returnPath, strangers[0]), $"abuse@{BounceSamples.Domain}"));
        // 3. The same genuine-looking line for carol, three times: counted once.
        for (var i = 0; i < 3; i++)
            Assert.StartsWith("250", await DeliverAsync(port, ForgedDsn(id, returnPath, ["carol@example.org"]), returnPath));

        await Eventually.ReturnsAsync(() => pipeline.Queues.CountAsync(pipeline.Names.InboundQueue), n => n == 0, "every report read");
        var unmatched = await pipeline.Queues.WaitAndTakeAsync(pipeline.Names.InboundUnparsedQueue, 3);
        Assert.All(unmatched, m => Assert.StartsWith("no job matches it", m.Header(InboundHeaders.Reason)));
        var status = await StatusAsync(pipeline, id, s => Lists(s, "bounced", "carol@example.org"), "carol bounced once");
        Assert.Single(status.GetProperty("recipients").GetProperty("bounced").EnumerateArray());

        var listed = await pipeline.Http.GetFromJsonAsync<JsonElement>("/api/suppressions");
        Assert.Equal(["carol@example.org"], listed.GetProperty("items").EnumerateArray().Select(e => e.GetProperty("address").GetString()));
        foreach (var stranger in strangers)
            Assert.Equal(HttpStatusCode.NotFound, (await pipeline.Http.GetAsync($"/api/suppressions/{stranger}")).StatusCode);
        await Eventually.TrueAsync(() => receiver.Received.Any(c => c.Type == WebhookEvent.Bounced), "carol's email.bounced webhook");
        await Eventually.NeverAsync(() => receiver.Received.Count(c => c.Type is WebhookEvent.Bounced or WebhookEvent.Complained) > 1,
            "a callback of a forged report", TimeSpan.FromSeconds(1));
        Assert.Equal(["carol@example.org"], receiver.Received.Where(c => c.Type is WebhookEvent.Bounced or WebhookEvent.Complained)
            .Select(c => c.Data.GetProperty("recipient").GetString()));
        Assert.Equal(["carol@example.org"], subscriber.Of<EmailBounced>(id).Select(e => e.Recipient));
        Assert.Empty(subscriber.Of<EmailComplained>(id));
        // What pauses a client is its count of bounces and complaints: the forged lines added none, carol's counted once.
        var state = await pipeline.WorkerServices.GetRequiredService<Notifications.Core.Store.IReputation>()
            .RecordReputationAsync(TestClients.Name, 0, [], 1000, CancellationToken.None);
        Assert.Equal((2L, 1, 0), (state.Sent, state.Bounces, state.Complaints));
        Assert.Equal(HttpStatusCode.Accepted, (await pipeline.Http.PostAsJsonAsync("/api/send-email",
            new { to = new[] { "dave@example.org" }, subject = "Still sending", text = "Hi." })).StatusCode);
    }

    /// <summary>A DSN as anyone can write one: naming the job by ENVID and Message-ID, and, when given, quoting a return path.</summary>
    private static byte[] ForgedDsn(string jobId, string? returnPath, IEnumerable<string> failed)
    {
        var groups = string.Concat(failed.Select(a => $"Final-Recipient: rfc822; {a}\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n"));
        return Encoding.ASCII.GetBytes($"""
            From: MAILER-DAEMON@mx.example.net
            To: postmaster@{BounceSamples.Domain}
            Subject: Undelivered Mail Returned to Sender
            MIME-Version: 1.0
            Content-Type: multipart/report; report-type=delivery-status; boundary="b"

            --b
            Content-Type: text/plain

            Not delivered.
            --b
            Content-Type: message/delivery-status

            Reporting-MTA: dns; mx.example.net
            Original-Envelope-Id: {jobId}

            {groups}
            --b
            Content-Type: text/rfc822-headers

            {(returnPath is null ? "" : $"Return-Path: <{returnPath}>\r\n")}Message-ID: <{jobId}@example.com>
            Subject: Your invoice

            --b--

            """.ReplaceLineEndings("\r\n"));
    }

    /// <summary>An ARF complaint as anyone can write one, to a fixed address; with <paramref name="token"/> the returned mail carries it.</summary>
    private static byte[] ForgedComplaint(string jobId, string? token, string complainant) =>
        Encoding.ASCII.GetBytes($"""
            From: feedback@arf.example.net
            To: abuse@{BounceSamples.Domain}
            Subject: Abuse report
            MIME-Version: 1.0
            Content-Type: multipart/report; report-type=feedback-report; boundary="f"

            --f
            Content-Type: text/plain

            A complaint.
            --f
            Content-Type: message/feedback-report

            Feedback-Type: abuse
            Version: 1
            Original-Rcpt-To: <{complainant}>
            Original-Envelope-Id: {jobId}

            --f
            Content-Type: message/rfc822

            {(token is null ? "" : $"{InboundHeaders.ReportToken}: {token}\r\n")}From: no-reply@example.com
            To: {complainant}
            Message-ID: <{jobId}@example.com>
            Subject: Your invoice

            Attached.
            --f--

            """.ReplaceLineEndings("\r\n"));

    [Fact]
    public async Task A_feedback_loop_complaint_to_a_fixed_address_finds_its_job_by_the_token_the_mail_carried()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var pipeline = await StartAsync(receiver);
        var port = await pipeline.StartInboundAsync();
        var (id, returnPath) = await SendAsync(pipeline, "grace@aol.example");
        var sent = pipeline.Relay.Accepted.Single(m => m.Message.MessageId!.StartsWith(id, StringComparison.Ordinal));

        // The provider quotes the mail as it arrived (token header and all) and sends the report to one address of ours.
        var report = ForgedComplaint(id, sent.Message.Headers[InboundHeaders.ReportToken], "grace@aol.example");
        Assert.StartsWith("250", await DeliverAsync(port, report, $"fbl@{BounceSamples.Domain}"));

        await StatusAsync(pipeline, id, s => Lists(s, "complained", "grace@aol.example"), "grace complained, found by the carried token");
        var hook = await Eventually.ReturnsAsync(() => Task.FromResult(receiver.Received.FirstOrDefault(c => c.Type == WebhookEvent.Complained)),
            c => c is not null, "the email.complained webhook");
        Assert.Equal("grace@aol.example", hook!.Data.GetProperty("recipient").GetString());
    }

    [Fact]
    public async Task A_tampered_token_an_unknown_job_and_garbage_are_kept_in_the_unparsed_queue_with_their_reason_and_an_auto_reply_is_dropped()
    {
        await using var pipeline = await StartAsync();
        var port = await pipeline.StartInboundAsync();
        var (id, returnPath) = await SendAsync(pipeline, "bob@example.org");
        var at = returnPath.IndexOf('@');
        var tampered = returnPath[..(at - 1)] + (returnPath[at - 1] == 'a' ? 'b' : 'a') + returnPath[at..];
        var unknownJob = Guid.CreateVersion7().ToString();
        var mint = new ReturnPath(Microsoft.Extensions.Options.Options.Create(new BouncesOptions { Domain = BounceSamples.Domain, Secret = Secret }));

        // The tampered token names bob's job, but nothing else in the report does (its Message-ID names an unknown job).
        Assert.StartsWith("250", await DeliverAsync(port, BounceSamples.Load("postfix-hard", unknownJob, tampered), tampered));
        Assert.StartsWith("250", await DeliverAsync(port, BounceSamples.Load("postfix-hard", unknownJob, mint.AddressFor(unknownJob)), mint.AddressFor(unknownJob)!));
        Assert.StartsWith("250", await DeliverAsync(port, Encoding.Latin1.GetBytes("\u0001\u0002garbage\r\n\r\n\u00ff"), returnPath));
        Assert.StartsWith("250", await DeliverAsync(port, BounceSamples.Load("out-of-office", id, returnPath), returnPath));

        var kept = await pipeline.Queues.WaitAndTakeAsync(pipeline.Names.InboundUnparsedQueue, 3);
        Assert.Equal(2, kept.Count(m => m.Header(InboundHeaders.Reason)!.StartsWith("no job matches it", StringComparison.Ordinal)));
        var garbage = Assert.Single(kept, m => !m.Header(InboundHeaders.Reason)!.StartsWith("no job matches it", StringComparison.Ordinal));
        Assert.Matches("not a mail message|neither a delivery report", garbage.Header(InboundHeaders.Reason));
        Assert.Contains(kept, m => m.Header(InboundHeaders.Recipients) == tampered);
        await Eventually.NeverAsync(async () => await pipeline.Queues.CountAsync(pipeline.Names.InboundUnparsedQueue) > 0, "the auto-reply kept",
            TimeSpan.FromMilliseconds(500)); // it was dropped, not kept
        Assert.Equal(0u, await pipeline.Queues.CountAsync(pipeline.Names.InboundQueue));
        Assert.Equal(HttpStatusCode.NotFound, (await pipeline.Http.GetAsync("/api/suppressions/bob@example.org")).StatusCode);
        var status = await pipeline.Http.GetFromJsonAsync<JsonElement>($"/api/emails/{id}");
        Assert.False(Lists(status, "bounced", "bob@example.org"));
    }

    [Fact]
    public async Task The_receiver_is_no_relay_refuses_a_20_MB_message_and_keeps_answering()
    {
        await using var pipeline = await StartAsync();
        var port = await pipeline.StartInboundAsync();

        await using (var smtp = await RawSmtp.ConnectAsync(port))
        {
            Assert.StartsWith("220", smtp.Greeting);
            await smtp.CommandAsync("EHLO mail.example.net");
            Assert.StartsWith("250", await smtp.CommandAsync("MAIL FROM:<someone@example.net>"));
            var relay = await smtp.CommandAsync("RCPT TO:<victim@example.org>");
            Assert.StartsWith("550 5.7.1", relay);
            Assert.StartsWith("550 5.7.1", await smtp.CommandAsync($"RCPT TO:<postmaster@sub.{BounceSamples.Domain}>"));
        }

        var big = new byte[20 * 1024 * 1024];
        Array.Fill(big, (byte)'a');
        for (var i = 76; i < big.Length; i += 78)
        {
            big[i] = (byte)'\r';
            big[i + 1] = (byte)'\n';
        }
        var message = Encoding.ASCII.GetBytes($"From: x@example.net\r\nTo: postmaster@{BounceSamples.Domain}\r\nSubject: big\r\n\r\n").Concat(big).ToArray();
        await using (var smtp = await RawSmtp.ConnectAsync(port))
            Assert.StartsWith("552", await smtp.SendAsync("", [$"postmaster@{BounceSamples.Domain}"], [], mailFromParameters: $"SIZE={message.Length}"));
        // Without SIZE declared, the session is cut as the DATA crosses the limit (InboundLimitTests).

        Assert.Equal(0u, await pipeline.Queues.CountAsync(pipeline.Names.InboundQueue) + await pipeline.Queues.CountAsync(pipeline.Names.InboundUnparsedQueue));
        Assert.StartsWith("250", await DeliverAsync(port, BounceSamples.Load("out-of-office"), $"postmaster@{BounceSamples.Domain}"));
    }

    [Fact]
    public async Task Sessions_over_the_cap_are_told_421_and_closed_and_a_freed_place_is_served_again()
    {
        await using var pipeline = await StartAsync(configure: s => s["Bounces:MaxSessions"] = "2"); // the setting this test is about
        var port = await pipeline.StartInboundAsync();

        await using var first = await RawSmtp.ConnectAsync(port);
        await using var second = await RawSmtp.ConnectAsync(port);
        await using (var third = await RawSmtp.ConnectAsync(port))
            Assert.StartsWith("421 4.7.0", third.Greeting);
        Assert.StartsWith("220", first.Greeting);
        Assert.StartsWith("250", await second.CommandAsync("NOOP"));

        await first.DisposeAsync();
        await Eventually.ReturnsAsync(async () =>
        {
            await using var next = await RawSmtp.ConnectAsync(port);
            return next.Greeting;
        }, greeting => greeting.StartsWith("220", StringComparison.Ordinal), "a place again once a session ended");
    }
}
