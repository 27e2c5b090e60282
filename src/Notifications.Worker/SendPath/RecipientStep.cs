using Notifications.Core.Store;
using Notifications.Worker.Recipients;
using Notifications.Worker.Claims;

namespace Notifications.Worker.SendPath;

/// <summary>Filter recipients: suppressed addresses leave the envelope; with nobody left, nothing is sent.</summary>
public sealed class RecipientStep(RecipientFilter recipients, SendGuard guard, IJobStatuses statuses) : ISendStep
{
    public async Task RunAsync(SendContext context, SendStepDelegate next)
    {
        var job = context.RequireJob();
        var envelope = await recipients.PrepareAsync(job, context.HoldsAborted);
        context.Envelope = envelope;
        if (envelope.Send.Count > 0)
        {
            await next(context);
            return;
        }
        // A redelivery of a job sent before its recipients were suppressed is a sent job, not a suppressed one.
        context.Outcome = await guard.WasSentAsync(job.Id, statuses)
            ? JobOutcome.AlreadySent
            : new JobOutcome.Suppressed(envelope.Suppressed, envelope.Unsubscribed);
    }
}
