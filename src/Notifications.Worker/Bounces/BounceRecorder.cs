using System.Text.Json.Nodes;
using Notifications.Core.MessageLog;
using Microsoft.Extensions.Logging;
using Notifications.Contracts;
using Notifications.Core.Bounces;
using Notifications.Core.Reputation;
using Notifications.Core.Store;
using Notifications.Core.Suppressions;
using Notifications.Core.Telemetry;
using Notifications.Core.Webhooks;
using Notifications.Worker.Settling;

namespace Notifications.Worker.Bounces;

/// <summary>
/// What a report that came back does to its job: a hard bounce suppresses the address and marks the recipient
/// <c>bounced</c> (even though the job was <c>sent</c>); a soft bounce is recorded on the job; a delay is only told; a
/// complaint suppresses the address for the job's client. Both count against the client's reputation. Then the events
/// and webhooks, each confirmed. Only recipients the relay took this job for are acted on, each once: a report naming
/// anyone else, or one reported before, changes nothing and is counted (<c>notifications.inbound.ignored</c>).
/// Everything here may run twice for one report (a redelivery): each step is idempotent.
/// </summary>
public sealed partial class BounceRecorder(
    ISuppressions suppressions,
    Core.Clients.ClientRegistry clients,
    IJobStatuses statuses,
    ReputationGuard reputation,
    Announcer announcer,
    NotificationsTelemetry telemetry,
    TimeProvider clock,
    ILogger<BounceRecorder> logger)
{
    /// <exception cref="Exception">the store or the broker failed: give the report back, it is read again.</exception>
    public async Task RecordAsync(JobStatus job, InboundReport report, CancellationToken cancellationToken)
    {
        // Reports of one job are read one at a time (the consumer reads several at once), so that "reported before" is
        // decided on what the last one wrote: one (job, recipient) counts once.
        var turn = Turns[(int)((uint)StringComparer.Ordinal.GetHashCode(job.JobId) % (uint)Turns.Length)];
        await turn.WaitAsync(cancellationToken);
        try
        {
            await RecordInTurnAsync(await statuses.GetStatusAsync(job.JobId, cancellationToken) ?? job, report, cancellationToken);
        }
        finally
        {
            turn.Release();
        }
    }

    private static readonly SemaphoreSlim[] Turns = [.. Enumerable.Range(0, 64).Select(_ => new SemaphoreSlim(1, 1))];

    private async Task RecordInTurnAsync(JobStatus job, InboundReport report, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var outcomes = job.Recipients;
        var counted = new List<ReputationEvent>();
        var tell = new List<Announcement>();
        if (report.Kind == ReportKind.Complaint)
        {
            // The complainant must be one the job mailed; a redacted complaint (RFC 6590) names nobody, and counts once for the job.
            var address = SuppressedAddress.Normalize(report.Recipients.FirstOrDefault()?.Address);
            if (address is null && report.Recipients.Count > 0 || address is not null && !job.WasMailedTo(address))
                Ignore("not-a-recipient");
            else if (address is not null && outcomes?.Complained?.Contains(address, StringComparer.OrdinalIgnoreCase) == true)
                Ignore("repeated");
            else
            {
                if (address is not null && job.Client is not null)
                    await suppressions.AddSuppressionAsync(new Suppression(address, $"complained: {report.FeedbackType}", Suppression.Complaint, job.Client,
                        now, Suppression.EveryList), cancellationToken);
                if (address is not null)
                    outcomes = RecipientOutcomes.With(outcomes, complained: address);
                counted.Add(ReputationEvent.ComplaintOf(job.JobId, address));
                telemetry.Complaints.Add(1, new KeyValuePair<string, object?>("client", job.Client ?? ""));
                LogComplaint(job.JobId, job.Client, report.FeedbackType);
                var complained = new EmailComplained(job.JobId, address, report.FeedbackType ?? "abuse", now, job.Client, clients.TestFlag(job.Client));
                tell.Add(new Announcement(job.JobId, job.Client, "a complaint")
                {
                    Log = [LogEntries.Of(job.JobId, job.Client, LogEntryTypes.Complained, now, $"complained:{address}", new JsonObject
                    {
                        ["recipient"] = address,
                        ["feedbackType"] = report.FeedbackType ?? "abuse",
                        ["reportingMta"] = report.ReportingMta,
                    })],
                    Event = OutcomeEvent.Of(complained),
                    Webhook = Webhook(WebhookEvent.Complained, "complained", job, address ?? "", now, feedbackType: report.FeedbackType ?? "abuse"),
                });
            }
        }
        foreach (var recipient in report.Kind == ReportKind.DeliveryStatus ? report.Recipients : [])
        {
            var address = SuppressedAddress.Normalize(recipient.Address) ?? recipient.Address;
            if (!job.WasMailedTo(address))
            {
                Ignore("not-a-recipient");
                continue;
            }
            if ((recipient.IsHardBounce || recipient.IsSoftBounce) && Reported(outcomes, address, recipient.IsHardBounce))
            {
                Ignore("repeated");
                continue;
            }
            if (recipient.IsHardBounce)
            {
                await suppressions.AddSuppressionAsync(Suppression.Bounced(address, "bounced: " + recipient.Describe(), job.Client, now, clients.IsTest(job.Client)),
                    cancellationToken);
                outcomes = RecipientOutcomes.With(outcomes, bounced: new RefusedRecipient(address, recipient.Describe()));
                counted.Add(ReputationEvent.Bounce(job.JobId, address));
                telemetry.Bounces.Add(1, new KeyValuePair<string, object?>("type", "hard"));
                LogBounce(job.JobId, recipient.Status);
                var bounced = new EmailBounced(job.JobId, address, recipient.Status!, recipient.Diagnostic, now, job.Client, report.ReportingMta,
                    clients.TestFlag(job.Client));
                tell.Add(new Announcement(job.JobId, job.Client, "a bounce")
                {
                    Log = [BounceEntry(LogEntryTypes.Bounced, job, address, now, recipient, report.ReportingMta)],
                    Event = OutcomeEvent.Of(bounced),
                    Webhook = Webhook(WebhookEvent.Bounced, "bounced", job, address, now, recipient),
                });
            }
            else if (recipient.IsSoftBounce)
            {
                outcomes = RecipientOutcomes.With(outcomes, softBounced: new RefusedRecipient(address, recipient.Describe()));
                telemetry.Bounces.Add(1, new KeyValuePair<string, object?>("type", "soft"));
                tell.Add(new Announcement(job.JobId, job.Client, "a soft bounce")
                {
                    Log = [BounceEntry(LogEntryTypes.Bounced, job, address, now, recipient, report.ReportingMta) with { Key = $"soft-bounced:{address}" }],
                });
            }
            else if (recipient.IsDelayed)
            {
                telemetry.Delays.Add(1);
                tell.Add(new Announcement(job.JobId, job.Client, "a delay")
                {
                    Webhook = Webhook(WebhookEvent.Delayed, "delayed", job, address, now, recipient),
                    Log = [BounceEntry(LogEntryTypes.Deferred, job, address, now, recipient, report.ReportingMta) with { Key = $"delayed:{address}:{recipient.Status}" }],
                });
            }
        }
        if (!ReferenceEquals(outcomes, job.Recipients))
            await statuses.SetStatusAsync(job with { Recipients = outcomes }, cancellationToken);
        await reputation.RecordAsync(job.Client, 0, counted, cancellationToken, job.JobId);
        // Not tried again here: a failure gives the report back to the queue, and its next reading announces what this one did not.
        foreach (var announcement in tell)
            if (!await announcer.AnnounceAsync(announcement, static () => false, cancellationToken))
                throw new Core.Broker.PublishFailedException($"job {job.JobId}: {announcement.What} was not announced; the report is read again");
    }

    /// <summary>
    /// Whether this recipient's bounce was recorded on the job already: one (job, recipient) counts once. A hard bounce after
    /// a soft one still counts (the server gave up for good).
    /// </summary>
    private static bool Reported(RecipientOutcomes? outcomes, string address, bool hard) =>
        outcomes?.Bounced?.Any(r => string.Equals(r.Address, address, StringComparison.OrdinalIgnoreCase)) == true
        || !hard && outcomes?.SoftBounced?.Any(r => string.Equals(r.Address, address, StringComparison.OrdinalIgnoreCase)) == true;

    /// <summary>The log's entry of one recipient's report: the DSN's status, the diagnostic, the server that reported it.</summary>
    private static LogEntry BounceEntry(string type, JobStatus job, string address, DateTimeOffset now, RecipientReport recipient, string? reportingMta) =>
        LogEntries.Of(job.JobId, job.Client, type, now, $"{type}:{address}", new JsonObject
        {
            ["recipient"] = address,
            ["status"] = recipient.Status,
            ["diagnostic"] = recipient.Diagnostic,
            ["reportingMta"] = reportingMta,
            ["hard"] = recipient.IsHardBounce,
            ["reported"] = "later, by the recipient's server",
        });

    private void Ignore(string reason) => telemetry.InboundIgnored.Add(1, new KeyValuePair<string, object?>("reason", reason));

    /// <summary>The callback of one recipient's report: the job, the recipient, and what their server said.</summary>
    private static WebhookEvent Webhook(string type, string status, JobStatus job, string address, DateTimeOffset now,
        RecipientReport? recipient = null, string? feedbackType = null) =>
        new(type, now, new WebhookData(job.JobId, job.Client, status, null, recipient?.Describe(), address.Length > 0 ? [address] : [], null,
            job.Replays, Recipient: address.Length > 0 ? address : "unknown", BounceStatus: recipient?.Status, Diagnostic: recipient?.Diagnostic,
            FeedbackType: feedbackType));

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId}: a recipient bounced after the relay accepted it ({Status}); the address is suppressed")]
    private partial void LogBounce(string jobId, string? status);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId} of client {Client}: a recipient complained ({FeedbackType}); the address is suppressed for that client")]
    private partial void LogComplaint(string jobId, string? client, string? feedbackType);
}
