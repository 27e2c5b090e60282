using MimeKit;
using Notifications.Worker.Sending;

namespace Notifications.Worker.SendPath;

/// <summary>
/// Build the MIME message from the job, and the envelope's mailboxes when some recipients were left out. A submitted
/// message (<c>raw</c>) is read as it was written, and its envelope is always given: its headers need not name (and never
/// name the Bcc of) those it goes to.
/// </summary>
public sealed class BuildStep : ISendStep
{
    public Task RunAsync(SendContext context, SendStepDelegate next)
    {
        var envelope = context.RequireEnvelope();
        var job = context.RequireJob();
        if (job.Raw is { } raw)
        {
            context.Message = Read(raw);
            context.Mailboxes = MimeMessageFactory.Mailboxes(envelope.Send);
        }
        else
        {
            context.Message = MimeMessageFactory.Build(job);
            context.Mailboxes = envelope.Everyone ? null : MimeMessageFactory.Mailboxes(envelope.Send);
        }
        return next(context);
    }

    /// <exception cref="FormatException">bytes MimeKit cannot read (the API would not have taken them): poison.</exception>
    private static MimeMessage Read(byte[] raw)
    {
        try
        {
            using var stream = new MemoryStream(raw, writable: false);
            return MimeMessage.Load(stream);
        }
        catch (ParseException ex)
        {
            throw new FormatException("the submitted message cannot be read: " + ex.Message, ex);
        }
    }
}
