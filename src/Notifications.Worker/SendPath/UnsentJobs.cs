using Notifications.Contracts;
using Microsoft.Extensions.Logging;
using Notifications.Core.Broker;
using Notifications.Core.Contract;
using Notifications.Core.Events;
using Notifications.Core.Store;
using Notifications.Core.Telemetry;
using Notifications.Core.Suppressions;
using Notifications.Core.Webhooks;
using Notifications.Worker.Consuming;

namespace Notifications.Worker.SendPath;

/// <summary>
/// Jobs that end without a send and without a failure: a scheduled job cancelled before it came due, and a job whose
/// every recipient is suppressed. Their event (and webhook) is confirmed before the delivery is acked; else it is returned.
/// </summary>
public sealed class UnsentJobs(
    IOutcomeEvents events,
    IJobStatuses statuses,
    WebhookOutbox webhooks,
    NotificationsTelemetry telemetry,
    TimeProvider clock,
    ILogger<UnsentJobs> logger)
{
    public async Task DropCancelledAsync(Delivery delivery, EmailJob job)
    {
        try
        {
            await events.PublishAsync(new EmailCancelled(job.Id, clock.GetUtcNow(), job.Client), CancellationToken.None);
        }
        catch (PublishFailedException ex)
        {
            logger.LogError("Job {JobId} was cancelled but its EmailCancelled event was not confirmed ({Reason}); returning it", job.Id, ex.Message);
            await delivery.ReturnAsync();
            return;
        }
        logger.LogInformation("Scheduled job {JobId} came due but was cancelled: dropped, nothing sent", job.Id);
        await delivery.AckAsync();
    }

    /// <summary>Every recipient is suppressed: nothing is sent or retried; status "suppressed", EmailSuppressed, ack.</summary>
    public async Task CompleteSuppressedAsync(Delivery delivery, EmailJob job, IReadOnlyList<string> suppressed, bool unsubscribed = false)
    {
        var addresses = suppressed.Select(SentJobs.AddressOf).ToList();
        var visible = job.VisibleRecipients().Select(SentJobs.AddressOf).ToHashSet(StringComparer.OrdinalIgnoreCase);
        try
        {
            await events.PublishAsync(new EmailSuppressed(job.Id, [.. addresses.Where(visible.Contains)], clock.GetUtcNow(), delivery.Replays, job.Client),
                CancellationToken.None);
            await webhooks.EnqueueAsync(WebhookEvents.For(WebhookEvent.Suppressed, JobStatus.Suppressed, job.Id, job.Client, job, clock.GetUtcNow(),
                delivery.PreviousAttempts + 1, replays: delivery.Replays, outcomes: new RecipientOutcomes(Suppressed: addresses)), CancellationToken.None);
        }
        catch (PublishFailedException ex)
        {
            logger.LogError("Job {JobId} is suppressed but its EmailSuppressed event or webhook was not confirmed ({Reason}); returning it", job.Id, ex.Message);
            await delivery.ReturnAsync();
            return;
        }
        try
        {
            await statuses.SetStatusAsync(new JobStatus(job.Id, JobStatus.Suppressed, clock.GetUtcNow(), delivery.PreviousAttempts + 1,
                Error: unsubscribed ? Suppression.Unsubscribed : null, Replays: delivery.Replays, Client: job.Client,
                Recipients: new RecipientOutcomes(Suppressed: addresses)), CancellationToken.None);
        }
        catch (Exception ex) when (StoreRegistration.IsStoreFailure(ex))
        {
            logger.LogWarning("Job store unavailable ({Reason}); job {JobId} is suppressed but its status could not be recorded", ex.Message, job.Id);
        }
        telemetry.JobsSuppressed.Add(1);
        logger.LogInformation("Job {JobId} not sent: every recipient ({Count}) is on the suppression list", job.Id, addresses.Count);
        await delivery.AckAsync();
    }
}
