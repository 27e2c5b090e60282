using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Notifications.Contracts;
using Notifications.Core.Broker;
using Notifications.Core.Contract;
using Notifications.Core.Events;
using Notifications.Core.Store;
using Notifications.Core.Telemetry;
using Notifications.Core.Validation;
using Notifications.Worker.Retrying;
using Notifications.Worker.Sending;
using Polly.CircuitBreaker;

namespace Notifications.Worker.Consuming;

/// <summary>
/// What happens to one delivery: read it, make sure it is not mailed twice, send it, and settle it
/// (ack, retry or dead-letter). A relay outage is not the job's failure: the job waits, costing no attempt.
/// </summary>
public sealed class JobHandler(
    SmtpRelay relay,
    RetryRouter router,
    FailureParker parker,
    EmailJobValidator validator,
    IJobStore store,
    OutcomeEvents events,
    RelayOutage outage,
    NotificationsTelemetry telemetry,
    IOptions<SmtpOptions> smtpOptions,
    IOptions<StoreOptions> storeOptions,
    ILogger<JobHandler> logger)
{
    private static readonly TimeSpan HoldPollInterval = TimeSpan.FromMilliseconds(200);
    private readonly TimeSpan _outageHold = smtpOptions.Value.OutageHold;
    private readonly TimeSpan _sendLease = storeOptions.Value.SendLease;

    public async Task HandleAsync(Delivery delivery, CancellationToken sendsAborted)
    {
        if (outage.IsPaused)
        {
            await delivery.ReturnAsync(); // consumption is being stopped; this one came in before the cancel
            return;
        }
        if (!JobCodec.TryDecode(delivery.Body.Span, out var job, out var decodeError))
        {
            await parker.ParkAsync(delivery, router.Decide(FailureKind.Poison, delivery.PreviousAttempts), decodeError!);
            return;
        }
        var errors = validator.ValidateJob(job!);
        if (errors.Count > 0)
        {
            var summary = string.Join("; ", errors.Select(e => $"{e.Key}: {string.Join(", ", e.Value)}"));
            await parker.ParkAsync(delivery, router.Decide(FailureKind.Poison, delivery.PreviousAttempts), "not a valid job: " + summary);
            return;
        }

        var claim = await ClaimAsync(job!.Id!, sendsAborted);
        if (claim == SendClaim.AlreadySent)
        {
            // Sent before, but its delivery was not acked (a crash, or its event was not confirmed): tell, then ack.
            logger.LogInformation("Job {JobId} was already accepted by the relay; acked without sending it again", job.Id);
            await CompleteAsync(delivery, job, "already accepted by the relay earlier", delivery.PreviousAttempts + 1);
            return;
        }
        await SendAsync(delivery, job, sendsAborted);
    }

    private async Task SendAsync(Delivery delivery, EmailJob job, CancellationToken sendsAborted)
    {
        var attempt = delivery.PreviousAttempts + 1;
        try
        {
            var message = MimeMessageFactory.Build(job);
            while (true)
            {
                try
                {
                    var reply = await SendOnceAsync(message, sendsAborted);
                    outage.Ended();
                    telemetry.Sent.Add(1);
                    if (job.CreatedAt is { } createdAt)
                        telemetry.DeliveryLatency.Record((DateTimeOffset.UtcNow - createdAt).TotalSeconds);
                    await MarkSentAsync(job.Id!);
                    logger.LogInformation("Sent job {JobId} attempt {Attempt} to {RecipientCount} recipients: {Reply}",
                        job.Id, attempt, job.AllRecipients().Count(), reply);
                    await CompleteAsync(delivery, job, reply, attempt);
                    return;
                }
                catch (BrokenCircuitException)
                {
                    // A hold can outlast the send claim's lease: give the claim up while waiting, take it again before sending.
                    await ReleaseClaimAsync(job.Id!);
                    do
                        await Task.Delay(HoldPollInterval, sendsAborted);
                    while (relay.Circuit == CircuitState.Open && !outage.HoldExpired(_outageHold));
                    if (outage.HoldExpired(_outageHold))
                    {
                        outage.TryPause();
                        await delivery.ReturnAsync();
                        return;
                    }
                    if (await ClaimAsync(job.Id!, sendsAborted) == SendClaim.AlreadySent)
                    {
                        await CompleteAsync(delivery, job, "already accepted by the relay earlier", attempt);
                        return;
                    }
                }
            }
        }
        catch (OperationCanceledException) when (sendsAborted.IsCancellationRequested)
        {
            // Shut down past the grace period: not the job's failure; the broker hands it out again.
            logger.LogWarning("Send of job {JobId} aborted by shutdown; returning it to the queue", job.Id);
            await ReleaseClaimAsync(job.Id!);
            await delivery.ReturnAsync();
        }
        catch (Exception ex)
        {
            await ReleaseClaimAsync(job.Id!);
            var decision = router.Decide(SmtpFailure.Classify(ex), delivery.PreviousAttempts);
            await parker.ParkAsync(delivery, decision, SmtpFailure.Describe(ex));
        }
    }

    private async Task<string> SendOnceAsync(MimeKit.MimeMessage message, CancellationToken cancellationToken)
    {
        using var activity = NotificationsTelemetry.Source.StartActivity("smtp send", ActivityKind.Client);
        var started = Stopwatch.GetTimestamp();
        try
        {
            return await relay.SendAsync(message, cancellationToken);
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

    /// <summary>EmailSent, confirmed, then the ack. An unconfirmed event returns the job; the sent marker keeps the mail from going out again.</summary>
    private async Task CompleteAsync(Delivery delivery, EmailJob job, string reply, int attempts)
    {
        try
        {
            await events.PublishAsync(new EmailSent(job.Id!, [.. job.AllRecipients()], reply, attempts, DateTimeOffset.UtcNow),
                CancellationToken.None);
        }
        catch (PublishFailedException ex)
        {
            logger.LogError("Job {JobId} is sent but its EmailSent event was not confirmed ({Reason}); returning it so the event is published again",
                job.Id, ex.Message);
            await delivery.ReturnAsync();
            return;
        }
        await delivery.AckAsync();
    }

    /// <summary>Claims the send; waits while another worker holds it. Without a store, sends (at least once).</summary>
    private async Task<SendClaim> ClaimAsync(string jobId, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + _sendLease + TimeSpan.FromSeconds(1);
        try
        {
            while (true)
            {
                var claim = await store.TryStartSendAsync(jobId, cancellationToken);
                if (claim != SendClaim.InProgress || DateTime.UtcNow > deadline)
                    return claim == SendClaim.InProgress ? SendClaim.Acquired : claim;
                await Task.Delay(HoldPollInterval, cancellationToken);
            }
        }
        catch (Exception ex) when (StoreRegistration.IsStoreFailure(ex))
        {
            logger.LogWarning("Job store unavailable ({Reason}); sending job {JobId} without the duplicate check", ex.Message, jobId);
            return SendClaim.Acquired;
        }
    }

    private async Task MarkSentAsync(string jobId)
    {
        try
        {
            await store.MarkSentAsync(jobId, CancellationToken.None);
        }
        catch (Exception ex) when (StoreRegistration.IsStoreFailure(ex))
        {
            logger.LogWarning("Job store unavailable ({Reason}); job {JobId} is sent but a redelivery could send it again", ex.Message, jobId);
        }
    }

    private async Task ReleaseClaimAsync(string jobId)
    {
        try
        {
            await store.ReleaseSendAsync(jobId, CancellationToken.None);
        }
        catch (Exception ex) when (StoreRegistration.IsStoreFailure(ex))
        {
            logger.LogDebug("Could not release the send claim of job {JobId} ({Reason}); it lapses by itself", jobId, ex.Message);
        }
    }
}
