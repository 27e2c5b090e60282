using System.Text;
using Notifications.Core.Bounces;
using Notifications.Tests.Infrastructure;

namespace Notifications.Tests.Unit;

/// <summary>Each sample of what comes back, and what it must be read as.</summary>
public sealed class ReportReaderTests
{
    private const string JobId = "0192f0c5-6d3e-7b7e-9a1c-5e1f2d3c4b5a";

    [Theory]
    [InlineData("postfix-hard", "bob@example.org", "5.1.1", "User unknown")]
    [InlineData("exim-hard", "carol@example.org", "5.0.0", "mailbox unknown")]
    [InlineData("exchange-hard", "dave@contoso.example", "5.1.10", "RecipientNotFound")]
    [InlineData("gmail-hard", "erin@gmail.example", "5.1.1", "does not exist")]
    [InlineData("yahoo-hard", "frank@yahoo.example", "5.0.0", "doesn't have a yahoo.example account")]
    [InlineData("no-envid", "oscar@example.org", "5.1.2", "Host unknown")]
    public void A_hard_bounce_names_its_recipient_status_diagnostic_and_the_returned_Message_ID(string sample, string recipient, string status,
        string diagnostic)
    {
        var report = ReportReader.Read(BounceSamples.Load(sample, JobId));

        Assert.Equal(ReportKind.DeliveryStatus, report.Kind);
        var bounced = Assert.Single(report.Recipients);
        Assert.Equal(recipient, bounced.Address);
        Assert.True(bounced.IsHardBounce);
        Assert.Equal(status, bounced.Status);
        Assert.Contains(diagnostic, bounced.Diagnostic);
        Assert.DoesNotContain('\n', bounced.Diagnostic!);
        Assert.Equal(JobId, ReturnPath.JobIdOfMessageId(report.ReturnedMessageId));
    }

    [Fact]
    public void A_multi_recipient_DSN_bounces_the_failed_recipient_only_and_gives_its_envelope_id()
    {
        var report = ReportReader.Read(BounceSamples.Load("multi-recipient", JobId));

        Assert.Equal(ReportKind.DeliveryStatus, report.Kind);
        Assert.Equal(JobId, report.EnvelopeId);
        Assert.Equal(2, report.Recipients.Count);
        var judy = report.Recipients.Single(r => r.Address == "judy@example.org");
        Assert.True(judy.IsHardBounce);
        Assert.Equal("5.2.1", judy.Status);
        var mallory = report.Recipients.Single(r => r.Address == "mallory@example.org");
        Assert.False(mallory.IsHardBounce || mallory.IsSoftBounce || mallory.IsDelayed);
        Assert.Equal("delivered", mallory.Action);
    }

    [Fact]
    public void A_delay_is_neither_bounce()
    {
        var report = ReportReader.Read(BounceSamples.Load("delayed", JobId));

        var peggy = Assert.Single(report.Recipients);
        Assert.True(peggy.IsDelayed);
        Assert.False(peggy.IsHardBounce || peggy.IsSoftBounce);
        Assert.Equal("4.4.1", peggy.Status);
        Assert.Equal(JobId, report.EnvelopeId);
    }

    [Fact]
    public void A_failure_with_a_4xx_status_is_a_soft_bounce()
    {
        var report = ReportReader.Read(BounceSamples.Load("soft-expired", JobId));

        var quentin = Assert.Single(report.Recipients);
        Assert.True(quentin.IsSoftBounce);
        Assert.False(quentin.IsHardBounce);
        Assert.Null(report.ReturnedMessageId);
    }

    [Fact]
    public void An_ARF_report_is_a_complaint_naming_the_complainant_and_its_feedback_type()
    {
        var report = ReportReader.Read(BounceSamples.Load("arf-complaint", JobId));

        Assert.Equal(ReportKind.Complaint, report.Kind);
        Assert.Equal("abuse", report.FeedbackType);
        Assert.Equal("grace@aol.example", Assert.Single(report.Recipients).Address);
        Assert.Equal(JobId, ReturnPath.JobIdOfMessageId(report.ReturnedMessageId));
    }

    [Fact]
    public void The_return_paths_the_returned_mail_carries_are_read_as_claims_from_a_quoted_message_or_its_headers()
    {
        const string path = "b+" + JobId + ".abcdefghij@" + BounceSamples.Domain;
        var complaint = ReportReader.Read(BounceSamples.Load("arf-complaint", JobId, path));
        var dsn = ReportReader.Read(BounceSamples.Load("postfix-hard", JobId, path));

        Assert.Contains(path, complaint.ReturnedTokens!);
        Assert.Contains(path, dsn.ReturnedTokens!);
        // A claim it is: only ReturnPath.TryReadJobId, with the secret, makes one a job.
        var mint = new ReturnPath(Microsoft.Extensions.Options.Options.Create(new BouncesOptions { Domain = BounceSamples.Domain, Secret = new string('s', 32) }));
        Assert.False(mint.TryReadJobId(path, out _));
    }

    [Fact]
    public void A_redacted_ARF_report_takes_the_complainant_from_the_returned_message()
    {
        var report = ReportReader.Read(BounceSamples.Load("arf-redacted", JobId));

        Assert.Equal(ReportKind.Complaint, report.Kind);
        Assert.Equal("heidi@aol.example", Assert.Single(report.Recipients).Address);
    }

    [Fact]
    public void An_out_of_office_reply_is_an_auto_reply()
    {
        Assert.Equal(ReportKind.AutoReply, ReportReader.Read(BounceSamples.Load("out-of-office", JobId)).Kind);
    }

    [Theory]
    [InlineData("")]
    [InlineData("\0\u0001\u0002 not a mail at all")]
    [InlineData("From: someone@example.org\r\nSubject: hello\r\n\r\nJust a letter.\r\n")]
    [InlineData("Content-Type: multipart/report; report-type=delivery-status; boundary=x\r\n\r\n--x\r\nContent-Type: message/delivery-status\r\n\r\n\r\n--x--\r\n")]
    [InlineData("Content-Type: multipart/report; report-type=delivery-status; boundary=x\r\n\r\n--x\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; a\r\n\r\nAction: failed\r\n\r\n--x--\r\n")]
    public void Anything_else_is_unreadable_with_a_reason_and_never_throws(string text)
    {
        var report = ReportReader.Read(Encoding.Latin1.GetBytes(text));

        Assert.Equal(ReportKind.Unreadable, report.Kind);
        Assert.False(string.IsNullOrWhiteSpace(report.Why));
    }

    [Fact]
    public void Random_bytes_never_make_the_reader_throw()
    {
        var random = new Random(25);
        for (var i = 0; i < 500; i++)
        {
            var bytes = new byte[random.Next(0, 4096)];
            random.NextBytes(bytes);
            Assert.NotNull(ReportReader.Read(bytes));
        }
    }
}
