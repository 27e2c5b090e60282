using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Notifications.Contracts;
using Notifications.Core.Broker;
using Notifications.Core.Contract;
using Notifications.Core.Events;
using Notifications.Core.Store;
using Notifications.Core.Telemetry;
using Notifications.Core.Validation;
using Notifications.Core.Webhooks;
using Notifications.Worker.Recipients;
using Notifications.Worker.Retrying;
using Notifications.Worker.Sending;

namespace Notifications.Worker.Consuming;

/// <summary>
/// What happens to one delivery: read it, make sure it is not mailed twice, send it, and settle it
/// (ack, retry or dead-letter). A relay outage is not the job's failure: the job waits, costing no attempt.
/// Once the relay said yes, the job is <see cref="SentJobs"/>'s: nothing after the 250 comes back to this path.
/// </summary>
public sealed class JobHandler(
    SmtpRelay relay,
    RetryRouter router,
    FailureParker parker,
    EmailJobValidator validator,
    SendGuard guard,
    SentJobs sentJobs,
    IOutcomeEvents events,
    RelayOutage outage,
    RelayPacer pacer,
    DomainPacer domains,
    LaneGate slots,
    RecipientFilter recipients,
    IJobStatuses statuses,
    WebhookOutbox webhooks,
    NotificationsTelemetry telemetry,
    TimeProvider clock,
    ILogger<JobHandler> logger)
{
    private static readonly TimeSpan HoldPollInterval = TimeSpan.FromMilliseconds(200);

    /// <param name="delivery">the delivery to settle.</param>
    /// <param name="holdsAborted">cancelled at shutdown: a job waiting for the relay goes back to the queue at once.</param>
    /// <param name="sendsAborted">cancelled once the shutdown grace period is over: a send in flight is abandoned.</param>
    public async Task HandleAsync(Delivery delivery, CancellationToken holdsAborted, CancellationToken sendsAborted)
    {
        if (outage.IsPaused)
        {
            await delivery.ReturnAsync(); // consumption is being stopped; this one came in before the cancel
            return;
        }
        if (!JobCodec.TryDecode(delivery.Body.Span, out var job, out var decodeError))
        {
            await parker.ParkAsync(delivery, router.Decide(FailureKind.Poison, delivery.PreviousAttempts), decodeError!, job: null);
            return;
        }
        var errors = validator.Validate(job!, job!.Client);
        if (errors.Count > 0)
        {
            var summary = string.Join("; ", errors.Select(e => $"{e.Key}: {string.Join(", ", e.Value)}"));
            await parker.ParkAsync(delivery, router.Decide(FailureKind.Poison, delivery.PreviousAttempts), "not a valid job: " + summary, job);
            return;
        }
        if (HeaderValues.GetString(delivery.Properties.Headers, JobHeaders.SendAt) is not null && await WasCancelledAsync(job))
        {
            await DropCancelledAsync(delivery, job);
            return;
        }
        if (job.OnlyTo is { } only && !only.All(job.AllRecipients().Contains))
        {
            await parker.ParkAsync(delivery, router.Decide(FailureKind.Poison, delivery.PreviousAttempts),
                "not a valid job: onlyTo names a recipient that is not in to, cc or bcc", job);
            return;
        }
        var envelope = await recipients.PrepareAsync(job, holdsAborted);
        if (envelope.Send.Count == 0)
        {
            // A redelivery of a job sent before its recipients were suppressed is a sent job, not a suppressed one.
            if (await guard.WasSentAsync(job.Id, statuses))
                await sentJobs.CompleteAlreadySentAsync(delivery, job, holdsAborted);
            else
                await CompleteSuppressedAsync(delivery, job, envelope.Suppressed);
            return;
        }
        IAsyncDisposable domainTurn;
        try
        {
            // Its domains' turns first, then a sending slot: a job for a slow domain waits holding neither a slot nor a connection.
            domainTurn = await domains.WaitTurnAsync(envelope.Send, holdsAborted);
        }
        catch (OperationCanceledException) when (holdsAborted.IsCancellationRequested)
        {
            logger.LogWarning("Job {JobId} returned to the queue before it was sent: the worker is stopping", job.Id);
            await delivery.ReturnAsync();
            return;
        }
        Accepted? accepted;
        await using (domainTurn) // held until the send ended: the domain's window at the relay counts it until then
        {
            try
            {
                await slots.EnterAsync(delivery.Lane, holdsAborted);
            }
            catch (OperationCanceledException) when (holdsAborted.IsCancellationRequested)
            {
                logger.LogWarning("Job {JobId} returned to the queue before it was sent: the worker is stopping", job.Id);
                await delivery.ReturnAsync();
                return;
            }
            try
            {
                accepted = await guard.ClaimAsync(job.Id, sendsAborted) == SendClaim.AlreadySent
                    ? Accepted.Before
                    : await SendAsync(delivery, job, envelope, holdsAborted, sendsAborted);
            }
            finally
            {
                slots.Leave();
            }
        }
        // The relay said yes (now or before): the send path is over, whatever follows fails or not.
        if (accepted is { Result: { } result })
            await sentJobs.RecordAsync(delivery, job, envelope, result, accepted.Attempt, holdsAborted);
        else if (accepted is not null)
            await sentJobs.CompleteAlreadySentAsync(delivery, job, holdsAborted);
    }

    /// <summary>The relay accepted the job: now (<see cref="Result"/>) or before this delivery (no result).</summary>
    private sealed record Accepted(SendResult? Result, int Attempt)
    {
        public static readonly Accepted Before = new(null, 0);
    }

    /// <summary>
    /// Sends until the relay accepts the job, or settles the delivery (retry, DLQ, returned) and answers null. Nothing
    /// that follows the relay's 250 runs in here, so no failure of it can be mistaken for the send's.
    /// </summary>
    private async Task<Accepted?> SendAsync(Delivery delivery, EmailJob job, Envelope envelope, CancellationToken holdsAborted,
        CancellationToken sendsAborted)
    {
        var attempt = delivery.PreviousAttempts + 1;
        var throttledSince = (DateTimeOffset?)null;
        try
        {
            var message = MimeMessageFactory.Build(job);
            var mailboxes = envelope.Everyone ? null : MimeMessageFactory.Mailboxes(envelope.Send);
            while (true)
            {
                try
                {
                    SendResult result;
                    using (guard.KeepClaim(job.Id))
                        result = await SendOnceAsync(message, mailboxes, sendsAborted);
                    outage.Ended();
                    telemetry.Sent.Add(1);
                    telemetry.DeliveryLatency.Record((clock.GetUtcNow() - job.CreatedAt).TotalSeconds);
                    return new Accepted(result, attempt);
                }
                catch (Exception ex) when (SmtpFailure.IsThrottle(ex))
                {
                    // "Slow down" is the relay's pace, not this mail's failure: go slower and send it again, costing no attempt.
                    pacer.Throttled();
                    telemetry.Throttled.Add(1, new KeyValuePair<string, object?>("domain", domains.MetricDomain(envelope.Send)));
                    await guard.ReleaseAsync(job.Id);
                    throttledSince ??= clock.GetUtcNow();
                    if (clock.GetUtcNow() - throttledSince > outage.Hold)
                    {
                        // Throttled for as long as an outage may hold a job: give it back rather than hold it past the broker's patience.
                        await delivery.ReturnAsync();
                        return null;
                    }
                    if (await guard.ClaimAsync(job.Id, sendsAborted) == SendClaim.AlreadySent)
                        return Accepted.Before;
                }
                catch (Exception ex) when (relay.IsOutage(ex))
                {
                    // The relay is down, not this mail: wait without spending an attempt. Sending again through the
                    // circuit is what lets it half-open after the break and probe the relay; checking its state alone never does.
                    // A hold can outlast the send claim's lease: give the claim up while waiting, take it again before sending.
                    await guard.ReleaseAsync(job.Id);
                    if (outage.HoldExpired())
                    {
                        outage.TryPause();
                        await delivery.ReturnAsync();
                        return null;
                    }
                    await Task.Delay(HoldPollInterval, clock, holdsAborted);
                    if (await guard.ClaimAsync(job.Id, sendsAborted) == SendClaim.AlreadySent)
                        return Accepted.Before;
                }
            }
        }
        catch (OperationCanceledException) when (holdsAborted.IsCancellationRequested || sendsAborted.IsCancellationRequested)
        {
            // Shutting down: not the job's failure; the broker hands it out again.
            logger.LogWarning("Job {JobId} returned to the queue: the worker is stopping", job.Id);
            await guard.ReleaseAsync(job.Id);
            await delivery.ReturnAsync();
        }
        catch (Exception ex)
        {
            await guard.ReleaseAsync(job.Id);
            if (ex is RecipientsRefusedException everyone)
                await recipients.RecordBouncesAsync(job, everyone.Refused);
            var decision = router.Decide(SmtpFailure.Classify(ex), delivery.PreviousAttempts, delivery.Lane);
            await parker.ParkAsync(delivery, decision, SmtpFailure.Describe(ex), job);
        }
        return null;
    }

    private async Task<SendResult> SendOnceAsync(MimeKit.MimeMessage message, IReadOnlyList<MimeKit.MailboxAddress>? envelope,
        CancellationToken cancellationToken)
    {
        await using var turn = await pacer.TakeTurnAsync(cancellationToken);
        using var activity = NotificationsTelemetry.Source.StartActivity("smtp send", ActivityKind.Client);
        var started = Stopwatch.GetTimestamp();
        try
        {
            return await relay.SendAsync(message, envelope, cancellationToken);
        }
        catch (Exception ex)
        {
            activity?.SetStatus(ActivityStatusCode.Error, SmtpFailure.Describe(ex));
            throw;
        }
        finally
        {
            telemetry.SmtpDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds);
        }
    }

    /// <summary>
    /// A scheduled job come due: take it from <c>scheduled</c> to <c>queued</c> in one step, unless it was cancelled; a
    /// cancel that comes after this is answered 409. A store that does not answer says not cancelled (sent, at least once).
    /// </summary>
    private async Task<bool> WasCancelledAsync(EmailJob job)
    {
        try
        {
            if (await statuses.TryChangeStatusAsync(new JobStatus(job.Id, JobStatus.Queued, clock.GetUtcNow(), Client: job.Client),
                    JobStatus.Scheduled, CancellationToken.None))
                return false;
            return (await statuses.GetStatusAsync(job.Id, CancellationToken.None))?.Status == JobStatus.Cancelled;
        }
        catch (Exception ex) when (StoreRegistration.IsStoreFailure(ex))
        {
            logger.LogWarning("Job store unavailable ({Reason}); scheduled job {JobId} is sent without checking for a cancel", ex.Message, job.Id);
            return false;
        }
    }

    private async Task DropCancelledAsync(Delivery delivery, EmailJob job)
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
    private async Task CompleteSuppressedAsync(Delivery delivery, EmailJob job, IReadOnlyList<string> suppressed)
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
                Replays: delivery.Replays, Client: job.Client, Recipients: new RecipientOutcomes(Suppressed: addresses)), CancellationToken.None);
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
