using Notifications.Core.Contract;
using Microsoft.Extensions.Logging;
using Notifications.Worker.Recipients;
using Notifications.Worker.Retrying;
using Notifications.Worker.Sending;
using Notifications.Worker.Transport;
using Notifications.Worker.SendPath;

namespace Notifications.Worker.Settling;

/// <summary>
/// The one place that decides a delivery's route from how its path ended: sent → <see cref="SentJobs"/> records it (outside
/// the path that sent it, so nothing after the 250 can send it again); invalid or failed → <see cref="RetryRouter"/> picks
/// retry or DLQ and <see cref="FailureParker"/> moves it; returned → back to the queue, no attempt spent; cancelled or
/// suppressed → <see cref="UnsentJobs"/>.
/// </summary>
public sealed partial class Settlement(
    SentJobs sent,
    UnsentJobs unsent,
    RetryRouter router,
    FailureParker parker,
    RecipientFilter recipients,
    ILogger<Settlement> logger)
{
    public Task SettleAsync(SendContext context)
    {
        var delivery = context.Delivery;
        var job = context.Job;
        return context.Outcome switch
        {
            JobOutcome.Sent accepted => sent.RecordAsync(context, accepted.Result, accepted.Attempt),
            JobOutcome.SentBefore => sent.CompleteAlreadySentAsync(delivery, job!, context.HoldsAborted),
            JobOutcome.Invalid invalid => parker.ParkAsync(delivery, router.Decide(FailureKind.Poison, delivery.PreviousAttempts), invalid.Reason, job),
            JobOutcome.Failed failed => ParkFailedAsync(context, failed.Error),
            JobOutcome.Returned returned => ReturnAsync(delivery, returned.Why),
            JobOutcome.Cancelled => unsent.DropCancelledAsync(delivery, job!, context.HoldsAborted),
            JobOutcome.Suppressed suppressed => unsent.CompleteSuppressedAsync(delivery, job!, suppressed.Addresses, suppressed.Unsubscribed, context.HoldsAborted),
            _ => throw new InvalidOperationException("the send path ended without an outcome"),
        };
    }

    private async Task ParkFailedAsync(SendContext context, Exception error)
    {
        if (error is RecipientsRefusedException everyone)
        {
            await recipients.RecordBouncesAsync(context.RequireJob(), everyone.Refused);
            await sent.CountAsync(context.RequireJob(), everyone.Refused.Count, [.. everyone.Refused.Where(r => SmtpFailure.CodeOf(r.Reply) >= 500)]);
        }
        var decision = router.Decide(SmtpFailure.Classify(error), context.Delivery.PreviousAttempts, context.Delivery.Lane);
        await parker.ParkAsync(context.Delivery, decision, SmtpFailure.Describe(error), context.Job, context.Attempt);
    }

    private Task ReturnAsync(Delivery delivery, string why)
    {
        LogReturned(delivery.JobId, why);
        return delivery.ReturnAsync();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId} returned to the queue: {Why}")]
    private partial void LogReturned(string jobId, string why);
}
