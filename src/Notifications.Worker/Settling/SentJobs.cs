using Microsoft.Extensions.Logging;
using Notifications.Contracts;
using Notifications.Core.Contract;
using Notifications.Core.Store;
using Notifications.Core.Suppressions;
using Notifications.Core.Telemetry;
using Notifications.Core.Webhooks;
using Notifications.Worker.Recipients;
using Notifications.Worker.Sending;
using Notifications.Worker.Transport;
using Notifications.Worker.Claims;

namespace Notifications.Worker.Settling;

/// <summary>
/// After the relay's 250 the job is sent, whatever happens next. This records it (sent marker and status, hard
/// bounces), publishes the follow-up job of deferred recipients, announces the send (<see cref="Announcer"/>: <c>EmailSent</c>,
/// the webhook) and acks. Nothing here throws back into the send path: a step that fails is retried here, on its own, and a
/// redelivery of the job comes back here (its claim says sent), never to the relay.
/// </summary>
public sealed partial class SentJobs(
    SendGuard guard,
    SentMarkers markers,
    RecipientFilter recipients,
    FollowUpJobs followUps,
    Announcer announcer,
    IJobStatuses statuses,
    Core.Reputation.ReputationGuard reputation,
    NotificationsTelemetry telemetry,
    Microsoft.Extensions.Options.IOptions<Core.MessageLog.MessageLogOptions> log,
    TimeProvider clock,
    ILogger<SentJobs> logger)
{
    /// <summary>The relay accepted the context's job on <paramref name="attempt"/>: record it, tell, ack.</summary>
    /// <remarks>The context's <c>HoldsAborted</c> is cancelled at shutdown: a job whose events still fail goes back to the queue (and comes back here).</remarks>
    public async Task RecordAsync(SendPath.SendContext context, SendResult result, int attempt)
    {
        var (delivery, job, envelope, holdsAborted) = (context.Delivery, context.RequireJob(), context.RequireEnvelope(), context.HoldsAborted);
        var outcomes = Outcomes(job, envelope, result.Refused, attempt);
        var sent = new JobStatus(job.Id, JobStatus.Sent, clock.GetUtcNow(), attempt, Replays: delivery.Replays, Client: job.Client, Recipients: outcomes,
            Mailed: Mailed(envelope, result.Refused));
        if (!await guard.MarkSentAsync(job.Id, sent))
            markers.Enqueue(sent);
        if (outcomes?.Rejected is { Count: > 0 } rejected)
        {
            try
            {
                await recipients.RecordBouncesAsync(job, rejected);
            }
            catch (Exception ex)
            {
                logger.LogError(ex, "Job {JobId} is sent; suppressing its hard bounces failed", job.Id);
            }
        }
        await CountAsync(job, envelope.Send.Count, outcomes?.Rejected);
        LogSent(logger, job.Id, attempt, envelope.Send.Count - result.Refused.Count, result.Reply);
        await PublishWhatFollowsAsync(delivery, job, result.Reply, attempt, outcomes, holdsAborted, sent, context);
    }

    /// <summary>
    /// Counts the recipients the relay was given, and its 5xx refusals as hard bounces, in the client's reputation. After
    /// the 250 nothing may fail the job: a store that does not answer costs the count, logged.
    /// </summary>
    public async Task CountAsync(EmailJob job, int recipients, IReadOnlyList<RefusedRecipient>? rejected)
    {
        try
        {
            await reputation.RecordAsync(job.Client, recipients,
                rejected?.Select(r => Core.Store.ReputationEvent.Bounce(job.Id, r.Address)).ToList() ?? [], CancellationToken.None, job.Id);
        }
        catch (Exception ex)
        {
            logger.LogWarning("Job {JobId}'s recipients were not counted in client {Client}'s reputation ({Reason})", job.Id, job.Client,
                ex.GetBaseException().Message);
        }
    }

    /// <summary>A redelivery of a job the relay accepted before (a crash, or what follows was not confirmed): tell, then ack.</summary>
    public async Task CompleteAlreadySentAsync(Delivery delivery, EmailJob job, CancellationToken holdsAborted)
    {
        LogAlreadySent(logger, job.Id);
        var stored = await StoredStatusAsync(job.Id);
        await PublishWhatFollowsAsync(delivery, job, "already accepted by the relay earlier", stored?.Attempt ?? delivery.PreviousAttempts + 1,
            stored?.Recipients, holdsAborted, stored is { Status: JobStatus.Sent } ? stored : null, null);
    }

    /// <summary>
    /// The follow-up job (this route's own), then the announcement (<c>EmailSent</c>, the webhook), each confirmed, then
    /// the ack. What fails is tried again by the announcer while the delivery is held: the broker's copy of the job is the
    /// outbox. If the channel is lost meanwhile the broker hands the job out again, and the redelivery comes back here.
    /// </summary>
    private async Task PublishWhatFollowsAsync(Delivery delivery, EmailJob job, string reply, int attempts, RecipientOutcomes? outcomes,
        CancellationToken holdsAborted, JobStatus? sent, SendPath.SendContext? context)
    {
        var held = () => delivery.ChannelOpen;
        var done = outcomes?.Deferred is not { Count: > 0 }
            || await announcer.ReliablyAsync("follow-up job", job.Id, () => followUps.PublishAsync(delivery, job, outcomes.Deferred!, attempts), held, holdsAborted);
        done = done && await announcer.AnnounceAsync(new Announcement(job.Id, job.Client, JobStatus.Sent)
        {
            WrittenStatus = sent,
            Job = job,
            Attempt = context?.Attempt,
            Signed = context?.Message?.Headers.Contains(MimeKit.HeaderId.DkimSignature),
            Content = context is not null && log.Value.Enabled && log.Value.ContentRetention > TimeSpan.Zero ? LogAnnouncement.ContentOf(job, context.Message) : null,
            Event = OutcomeEvent.Of(SentEvent(delivery, job, reply, attempts, outcomes)),
            Webhook = WebhookEvents.For(WebhookEvent.Sent, JobStatus.Sent, job.Id, job.Client, job, clock.GetUtcNow(), attempts,
                replays: delivery.Replays, outcomes: outcomes),
        }, held, holdsAborted);
        if (done)
            await delivery.AckAsync();
        else if (holdsAborted.IsCancellationRequested)
        {
            logger.LogWarning("Job {JobId} returned to the queue unfinished: the worker is stopping; its redelivery is not sent again", job.Id);
            await delivery.ReturnAsync();
        }
        else
            logger.LogWarning("Job {JobId}'s channel is gone; its redelivery publishes what follows the send", job.Id);
    }

    private EmailSent SentEvent(Delivery delivery, EmailJob job, string reply, int attempts, RecipientOutcomes? outcomes)
    {
        // Parsing the recipients to filter bcc out of the lists is only needed when there are lists: most jobs have none.
        var visible = outcomes is null ? null : job.VisibleRecipients().Select(AddressOf).ToHashSet(StringComparer.OrdinalIgnoreCase);
        return new EmailSent(job.Id, [.. job.VisibleRecipients()], reply, attempts, clock.GetUtcNow(), delivery.Replays, job.Client,
            Refusals(outcomes?.Rejected, visible), outcomes?.Suppressed?.Where(visible!.Contains).ToList(), Refusals(outcomes?.Deferred, visible), job.Test);
    }

    /// <summary>
    /// What became of single recipients: refused ones split into rejected (5xx; hard bounces go on the suppression
    /// list) and deferred (4xx; a follow-up job retries them), with the suppressed ones. Null when everyone got it.
    /// </summary>
    private RecipientOutcomes? Outcomes(EmailJob job, Envelope envelope, IReadOnlyList<RefusedRecipient> refused, int attempt)
    {
        if (refused.Count == 0 && envelope.Suppressed.Count == 0)
            return null;
        var rejected = refused.Where(r => SmtpFailure.CodeOf(r.Reply) >= 500).ToList();
        var deferred = refused.Where(r => SmtpFailure.CodeOf(r.Reply) < 500)
            .Select(r => r with { FollowUp = FollowUpJobs.IdFor(job.Id, attempt) }).ToList();
        telemetry.RecipientsRefused.Add(rejected.Count, new KeyValuePair<string, object?>("outcome", "rejected"));
        telemetry.RecipientsRefused.Add(deferred.Count, new KeyValuePair<string, object?>("outcome", "deferred"));
        return new RecipientOutcomes(rejected.Count > 0 ? rejected : null,
            envelope.Suppressed.Count > 0 ? [.. envelope.Suppressed.Select(AddressOf)] : null,
            deferred.Count > 0 ? deferred : null);
    }

    /// <summary>What a sent job's status says (its recipients, its attempt), for a redelivery that must finish what the first one began.</summary>
    private async Task<JobStatus?> StoredStatusAsync(string jobId)
    {
        try
        {
            return await statuses.GetStatusAsync(jobId, CancellationToken.None);
        }
        catch (Exception ex)
        {
            // Whatever failed, this is after the relay's yes: the redelivery goes on without the outcomes, never back to the relay.
            logger.LogWarning("Job {JobId}'s recipient outcomes are unknown to this redelivery ({Reason})", jobId, ex.GetBaseException().Message);
            return null;
        }
    }

    /// <summary>Who the relay took the mail for: the only addresses a report about this job may act on later.</summary>
    private static List<string> Mailed(Envelope envelope, IReadOnlyList<RefusedRecipient> refused)
    {
        var mailed = new List<string>(envelope.Send.Count);
        // Most jobs have no refusal: then no set is built and each address is read once.
        var left = refused.Count == 0 ? null : refused.Select(r => AddressOf(r.Address)).ToHashSet(StringComparer.OrdinalIgnoreCase);
        foreach (var recipient in envelope.Send)
            if (AddressOf(recipient) is var address && left?.Contains(address) != true)
                mailed.Add(address);
        return mailed;
    }

    internal static string AddressOf(string recipient) => SuppressedAddress.Normalize(recipient) ?? recipient;

    private static List<RecipientRefusal>? Refusals(IReadOnlyList<RefusedRecipient>? refused, HashSet<string>? visible) =>
        refused is null || visible is null ? null : [.. refused.Where(r => visible.Contains(AddressOf(r.Address))).Select(r => new RecipientRefusal(r.Address, r.Reply, r.FollowUp))];

    // Once per job: source-generated, so nothing is boxed or allocated when Information is off.
    [LoggerMessage(Level = LogLevel.Information, Message = "Sent job {JobId} attempt {Attempt} to {RecipientCount} recipients: {Reply}")]
    private static partial void LogSent(ILogger logger, string jobId, int attempt, int recipientCount, string reply);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} was already accepted by the relay; acked without sending it again")]
    private static partial void LogAlreadySent(ILogger logger, string jobId);
}
