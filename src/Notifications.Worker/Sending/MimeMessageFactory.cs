using MimeKit;
using Notifications.Core.Contract;

namespace Notifications.Worker.Sending;

/// <summary>Turns a validated job into the MIME message the relay receives.</summary>
public static class MimeMessageFactory
{
    /// <exception cref="FormatException">an address or header the validator should have refused.</exception>
    public static MimeMessage Build(EmailJob job)
    {
        var from = Mailbox(job.From);
        var message = new MimeMessage();
        message.From.Add(from);
        message.To.AddRange(job.To.Select(Mailbox));
        message.Cc.AddRange(job.Cc.Select(Mailbox));
        message.Bcc.AddRange(job.Bcc.Select(Mailbox));
        if (job.ReplyTo is not null)
            message.ReplyTo.Add(Mailbox(job.ReplyTo));
        message.Subject = job.Subject;
        // The job id in the Message-Id ties a mail in any inbox or relay log back to its job.
        message.MessageId = $"{job.Id}@{from.Domain}";
        message.Date = job.CreatedAt;
        if (job.Headers is not null)
            foreach (var (name, value) in job.Headers)
                message.Headers.Add(name, value);
        var body = new BodyBuilder { TextBody = job.Text, HtmlBody = job.Html };
        foreach (var file in job.Attachments ?? [])
        {
            var content = Convert.FromBase64String(file.Content!);
            var type = ContentType.Parse(file.ContentType!);
            if (file.ContentId is { } contentId)
            {
                // Inline: the html names it as cid:<contentId>.
                var part = body.LinkedResources.Add(file.Filename!, content, type);
                part.ContentId = contentId;
            }
            else
            {
                body.Attachments.Add(file.Filename!, content, type);
            }
        }
        message.Body = body.ToMessageBody();
        return message;
    }

    /// <summary>The envelope for some of a job's recipients, as the job spells them.</summary>
    public static List<MailboxAddress> Mailboxes(IEnumerable<string> recipients) => [.. recipients.Select(Mailbox)];

    /// <summary>Every recipient in the message's headers (To, Cc, Bcc), once each: the envelope when no one was left out.</summary>
    public static List<MailboxAddress> AllRecipients(MimeMessage message) =>
        [.. message.To.Mailboxes.Concat(message.Cc.Mailboxes).Concat(message.Bcc.Mailboxes).DistinctBy(m => m.Address, StringComparer.OrdinalIgnoreCase)];

    private static MailboxAddress Mailbox(string? value) =>
        EmailAddresses.TryParseMailbox(value, out var mailbox, out var error)
            ? mailbox!
            : throw new FormatException(error);
}
