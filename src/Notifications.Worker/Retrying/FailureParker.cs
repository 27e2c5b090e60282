using Microsoft.Extensions.Logging;
using Notifications.Contracts;
using Notifications.Core.Broker;
using Notifications.Core.Events;
using Notifications.Core.Contract;
using Notifications.Core.DeadLetters;
using Notifications.Core.Store;
using Notifications.Core.Telemetry;
using Notifications.Core.Topology;
using Notifications.Core.Webhooks;
using Notifications.Worker.Consuming;

namespace Notifications.Worker.Retrying;

/// <summary>
/// Moves a failed job to its retry queue or the DLQ with its history; the original is acked only after the copy is confirmed,
/// and its event and webhook are published only after that too (never an event for a copy that may not be there).
/// </summary>
public sealed partial class FailureParker(
    ConfirmedPublisher publisher,
    IOutcomeEvents events,
    TopologyNames names,
    NotificationsTelemetry telemetry,
    IJobStatuses statuses,
    IDeadLetterIndex deadLetters,
    WebhookOutbox webhooks,
    TimeProvider clock,
    ILogger<FailureParker> logger)
{
    private static readonly TimeSpan ParkFailureBackoff = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MaxTellBackoff = TimeSpan.FromSeconds(30);

    /// <param name="job">the job as the handler decoded it; null when its body is not one (the webhook then has no recipients).</param>
    public async Task ParkAsync(Delivery delivery, RetryDecision decision, string error, EmailJob? job)
    {
        var properties = JobProperties.RetryCopy(delivery.Properties, decision.Attempts, error, decision.Kind.ToWire(), decision.Delay, clock.GetUtcNow());
        var headers = properties.Headers!;
        // The lane it was consumed from, so the DLQ and a replay know it even if the publisher did not say.
        if (delivery.Lane == Lane.High)
            headers[JobHeaders.Priority] = Lanes.HighWire;
        else
            headers.Remove(JobHeaders.Priority);

        try
        {
            // The copy first, confirmed: only then is there a message for the event and the webhook to speak of.
            await publisher.PublishAsync(decision.RoutingKey, properties, delivery.Body, CancellationToken.None);
        }
        catch (PublishFailedException ex)
        {
            logger.LogError("Could not move job {JobId} to {Destination} ({Reason}); returning it to {Queue}",
                delivery.JobId, decision.RoutingKey, ex.Message, names.WorkQueue(delivery.Lane));
            await Task.Delay(ParkFailureBackoff, clock);
            await delivery.ReturnAsync();
            return;
        }
        if (!await TellAsync(delivery, decision, error, job))
            return; // the channel is gone: the broker hands the job out again (a second copy may be parked; the claim keeps it mailed once)
        await RecordStatusAsync(delivery, decision, error);
        if (decision.IsDeadLetter)
            await IndexAsync(delivery, properties);
        await delivery.AckAsync();

        if (decision.IsDeadLetter)
            telemetry.DeadLettered.Add(1, new KeyValuePair<string, object?>("kind", decision.Kind.ToWire()));
        else
            telemetry.Retried.Add(1, new KeyValuePair<string, object?>("attempt", decision.Attempts));
        if (decision.IsDeadLetter)
            LogDeadLettered(delivery.JobId, names.DeadQueue, decision.Attempts, decision.Kind.ToWire(), error);
        else
            LogRetrying(delivery.JobId, decision.Attempts, decision.Kind.ToWire(), error, names.Prefix + decision.RoutingKey, decision.Delay);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Dead-lettered job {JobId} to {Queue} after {Attempts} attempts as {FailureKind}: {Error}")]
    private partial void LogDeadLettered(string jobId, string queue, int attempts, string failureKind, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} failed attempt {Attempt} as {FailureKind} ({Error}); retry via {RetryQueue} in {Delay}")]
    private partial void LogRetrying(string jobId, int attempt, string failureKind, string error, string retryQueue, TimeSpan? delay);

    /// <summary>
    /// The outcome event and the client's webhook, each confirmed, once the copy is safe. A publish that fails is tried
    /// again with a growing pause while the delivery is held (returning it would park a second copy); false when the
    /// channel went away meanwhile.
    /// </summary>
    private async Task<bool> TellAsync(Delivery delivery, RetryDecision decision, string error, EmailJob? job)
    {
        var eventDone = false;
        var webhookDone = false;
        var wait = ParkFailureBackoff;
        while (true)
        {
            try
            {
                if (!eventDone)
                {
                    await PublishOutcomeAsync(delivery, decision, error);
                    eventDone = true;
                }
                if (!webhookDone)
                {
                    await EnqueueWebhookAsync(delivery, decision, error, job);
                    webhookDone = true;
                }
                return true;
            }
            catch (Exception ex)
            {
                logger.LogError("Job {JobId} is in {Destination}, but its {Step} was not published ({Reason}); trying again in {Delay}",
                    delivery.JobId, decision.RoutingKey, eventDone ? "webhook" : "outcome event", ex.GetBaseException().Message, wait);
            }
            if (!delivery.ChannelOpen)
                return false;
            await Task.Delay(wait, clock);
            wait = TimeSpan.FromTicks(Math.Min(wait.Ticks * 2, MaxTellBackoff.Ticks));
        }
    }

    /// <summary>The job's status, written here where the failure happened; a store that is away costs the status, not the job.</summary>
    private async Task RecordStatusAsync(Delivery delivery, RetryDecision decision, string error)
    {
        var status = decision.IsDeadLetter
            ? new JobStatus(delivery.JobId, JobStatus.Dead, clock.GetUtcNow(), decision.Attempts, decision.Kind.ToWire(), error, delivery.Replays, delivery.Client)
            : new JobStatus(delivery.JobId, JobStatus.Retrying, clock.GetUtcNow(), decision.Attempts, Error: error, Replays: delivery.Replays,
                Client: delivery.Client);
        try
        {
            await statuses.SetStatusAsync(status, CancellationToken.None);
        }
        catch (Exception ex) when (StoreRegistration.IsStoreFailure(ex))
        {
            logger.LogWarning("Job store unavailable ({Reason}); job {JobId} is {Status} but its status could not be recorded",
                ex.Message, delivery.JobId, status.Status);
        }
    }

    /// <summary>
    /// The console's index entry of the copy just parked in the DLQ. A store that is away costs the entry, not the job: the
    /// letter is in the DLQ, and <c>dlq reindex</c> (or the console's rebuild) brings it into the index.
    /// </summary>
    private async Task IndexAsync(Delivery delivery, RabbitMQ.Client.BasicProperties properties)
    {
        try
        {
            var letter = new DeadLetter(0, delivery.Body.ToArray(), properties);
            await deadLetters.IndexDeadLettersAsync([IndexedDeadLetter.From(letter, clock.GetUtcNow())], CancellationToken.None);
        }
        catch (Exception ex) when (StoreRegistration.IsStoreFailure(ex))
        {
            logger.LogWarning("Job store unavailable ({Reason}); job {JobId} is in {Queue} but not in the console's index until it is rebuilt",
                ex.Message, delivery.JobId, names.DeadQueue);
        }
    }

    /// <summary>The client's callback, when it has a webhook, with the job's recipients and metadata.</summary>
    private Task EnqueueWebhookAsync(Delivery delivery, RetryDecision decision, string error, EmailJob? job)
    {
        if (!webhooks.Wants(delivery.Client))
            return Task.CompletedTask;
        // A poison body is no job, but what it says of its recipients and metadata still tells the client which mail this was.
        job ??= JobCodec.TryDecodeLoosely(delivery.Body.Span, delivery.JobId);
        return webhooks.EnqueueAsync(decision.IsDeadLetter
            ? WebhookEvents.For(WebhookEvent.Dead, JobStatus.Dead, delivery.JobId, delivery.Client, job, clock.GetUtcNow(), decision.Attempts, error,
                delivery.Replays, decision.Kind.ToWire())
            : WebhookEvents.For(WebhookEvent.Retrying, JobStatus.Retrying, delivery.JobId, delivery.Client, job, clock.GetUtcNow(), decision.Attempts,
                error, delivery.Replays), CancellationToken.None);
    }

    private Task PublishOutcomeAsync(Delivery delivery, RetryDecision decision, string error) => decision.Delay is { } delay
        ? events.PublishAsync(new EmailRetryScheduled(delivery.JobId, decision.Attempts, delay, error, clock.GetUtcNow(), delivery.Replays,
            delivery.Client), CancellationToken.None)
        : events.PublishAsync(new EmailDeadLettered(delivery.JobId, decision.Kind.ToWire(), error, decision.Attempts, clock.GetUtcNow(),
            delivery.Replays, delivery.Client), CancellationToken.None);
}
