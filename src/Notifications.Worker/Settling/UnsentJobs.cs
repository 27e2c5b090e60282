using Notifications.Contracts;
using Microsoft.Extensions.Logging;
using Notifications.Core.Contract;
using Notifications.Core.Store;
using Notifications.Core.Telemetry;
using Notifications.Core.Suppressions;
using Notifications.Core.Webhooks;
using Notifications.Worker.Transport;

namespace Notifications.Worker.Settling;

/// <summary>
/// Jobs that end without a send and without a failure: a scheduled job cancelled before it came due, and a job whose
/// every recipient is suppressed. Announced (<see cref="Announcer"/>) while the delivery is held, then acked; a worker
/// that stops first returns it.
/// </summary>
public sealed partial class UnsentJobs(Announcer announcer, NotificationsTelemetry telemetry, TimeProvider clock, ILogger<UnsentJobs> logger)
{
    public async Task DropCancelledAsync(Delivery delivery, EmailJob job, CancellationToken holdsAborted)
    {
        // Its status says "cancelled" already: the API wrote it when the cancel came.
        var now = clock.GetUtcNow();
        var cancelled = new Announcement(job.Id, job.Client, JobStatus.Cancelled)
        {
            Event = OutcomeEvent.Of(new EmailCancelled(job.Id, now, job.Client, job.Test)),
            Job = job,
            Log = [Core.MessageLog.LogEntries.Of(job.Id, job.Client, Core.MessageLog.LogEntryTypes.Cancelled, now, "dropped",
                new System.Text.Json.Nodes.JsonObject { ["dropped"] = "came due after the cancel; nothing was sent" })],
        };
        if (!await SettleAsync(delivery, cancelled, holdsAborted))
            return;
        LogCancelled(job.Id);
    }

    /// <summary>Every recipient is suppressed: nothing is sent or retried; status "suppressed", EmailSuppressed, ack.</summary>
    public async Task CompleteSuppressedAsync(Delivery delivery, EmailJob job, IReadOnlyList<string> suppressed, bool unsubscribed, CancellationToken holdsAborted)
    {
        var addresses = suppressed.Select(SentJobs.AddressOf).ToList();
        var visible = job.VisibleRecipients().Select(SentJobs.AddressOf).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var now = clock.GetUtcNow();
        var outcomes = new RecipientOutcomes(Suppressed: addresses);
        var announcement = new Announcement(job.Id, job.Client, JobStatus.Suppressed)
        {
            Job = job,
            Status = new JobStatus(job.Id, JobStatus.Suppressed, now, delivery.PreviousAttempts + 1, Error: unsubscribed ? Suppression.Unsubscribed : null,
                Replays: delivery.Replays, Client: job.Client, Recipients: outcomes),
            Event = OutcomeEvent.Of(new EmailSuppressed(job.Id, [.. addresses.Where(visible.Contains)], now, delivery.Replays, job.Client, job.Test)),
            Webhook = WebhookEvents.For(WebhookEvent.Suppressed, JobStatus.Suppressed, job.Id, job.Client, job, now, delivery.PreviousAttempts + 1,
                replays: delivery.Replays, outcomes: outcomes),
        };
        if (!await SettleAsync(delivery, announcement, holdsAborted))
            return;
        telemetry.JobsSuppressed.Add(1);
        LogSuppressed(job.Id, addresses.Count);
    }

    private async Task<bool> SettleAsync(Delivery delivery, Announcement announcement, CancellationToken holdsAborted)
    {
        if (await announcer.AnnounceAsync(announcement, () => delivery.ChannelOpen, holdsAborted))
        {
            await delivery.AckAsync();
            return true;
        }
        await delivery.ReturnAsync(); // not announced: the job comes back and is announced then
        return false;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Scheduled job {JobId} came due but was cancelled: dropped, nothing sent")]
    private partial void LogCancelled(string jobId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} not sent: every recipient ({Count}) is on the suppression list")]
    private partial void LogSuppressed(string jobId, int count);
}
