using Notifications.Worker.Sending;

namespace Notifications.Worker.SendPath;

/// <summary>Build the MIME message from the job, and the envelope's mailboxes when some recipients were left out.</summary>
public sealed class BuildStep : ISendStep
{
    public Task RunAsync(SendContext context, SendStepDelegate next)
    {
        var envelope = context.RequireEnvelope();
        context.Message = MimeMessageFactory.Build(context.RequireJob());
        context.Mailboxes = envelope.Everyone ? null : MimeMessageFactory.Mailboxes(envelope.Send);
        return next(context);
    }
}
