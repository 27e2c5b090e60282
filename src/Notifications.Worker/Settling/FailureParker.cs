using Microsoft.Extensions.Logging;
using Notifications.Contracts;
using Notifications.Core.Broker;
using Notifications.Core.Contract;
using Notifications.Core.DeadLetters;
using Notifications.Core.Store;
using Notifications.Core.Telemetry;
using Notifications.Core.Topology;
using Notifications.Core.Webhooks;
using Notifications.Worker.Retrying;
using Notifications.Worker.Transport;

namespace Notifications.Worker.Settling;

/// <summary>
/// Moves a failed job to its retry queue or the DLQ with its history; the original is acked only after the copy is confirmed,
/// and the outcome is announced (<see cref="Announcer"/>: status, event, webhook) only after that too (never an event for a
/// copy that may not be there).
/// </summary>
public sealed partial class FailureParker(
    ConfirmedPublisher publisher,
    Announcer announcer,
    TopologyNames names,
    NotificationsTelemetry telemetry,
    IDeadLetterIndex deadLetters,
    WebhookOutbox webhooks,
    Core.Clients.ClientRegistry clients,
    TimeProvider clock,
    ILogger<FailureParker> logger)
{
    private static readonly TimeSpan ParkFailureBackoff = TimeSpan.FromSeconds(1);

    /// <param name="job">the job as the handler decoded it; null when its body is not one (the webhook then has no recipients).</param>
    /// <param name="attempt">the try at the relay that failed, for the message log; null when the job never got there.</param>
    public async Task ParkAsync(Delivery delivery, RetryDecision decision, string error, EmailJob? job, SendPath.RelayAttempt? attempt = null)
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
        // The event and the webhook are confirmed while the delivery is held (returning it would park a second copy).
        if (!await announcer.AnnounceAsync(Announce(delivery, decision, error, job) with { Attempt = attempt, Job = job },
                () => delivery.ChannelOpen, CancellationToken.None))
            return; // the channel is gone: the broker hands the job out again (a second copy may be parked; the claim keeps it mailed once)
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

    /// <summary>What follows the copy being safe: the retry's or the dead letter's status, event and webhook.</summary>
    private Announcement Announce(Delivery delivery, RetryDecision decision, string error, EmailJob? job)
    {
        var now = clock.GetUtcNow();
        // A poison body is no job, but what it says of its recipients and metadata still tells the client which mail this was.
        job ??= webhooks.Wants(delivery.Client) ? JobCodec.TryDecodeLoosely(delivery.Body.Span, delivery.JobId) : null;
        return decision.IsDeadLetter
            ? new Announcement(delivery.JobId, delivery.Client, "dead-lettered")
            {
                Status = new JobStatus(delivery.JobId, JobStatus.Dead, now, decision.Attempts, decision.Kind.ToWire(), error, delivery.Replays, delivery.Client),
                Event = OutcomeEvent.Of(new EmailDeadLettered(delivery.JobId, decision.Kind.ToWire(), error, decision.Attempts, now, delivery.Replays,
                    delivery.Client, job?.Test ?? clients.TestFlag(delivery.Client))),
                Webhook = WebhookEvents.For(WebhookEvent.Dead, JobStatus.Dead, delivery.JobId, delivery.Client, job, now, decision.Attempts, error,
                    delivery.Replays, decision.Kind.ToWire()),
            }
            : new Announcement(delivery.JobId, delivery.Client, "retrying")
            {
                LogDetails = new System.Text.Json.Nodes.JsonObject
                {
                    ["queue"] = names.Prefix + decision.RoutingKey,
                    ["due"] = now + (decision.Delay ?? TimeSpan.Zero),
                },
                Status = new JobStatus(delivery.JobId, JobStatus.Retrying, now, decision.Attempts, Error: error, Replays: delivery.Replays,
                    Client: delivery.Client),
                Event = OutcomeEvent.Of(new EmailRetryScheduled(delivery.JobId, decision.Attempts, decision.Delay ?? TimeSpan.Zero, error, now,
                    delivery.Replays, delivery.Client, job?.Test ?? clients.TestFlag(delivery.Client))),
                Webhook = WebhookEvents.For(WebhookEvent.Retrying, JobStatus.Retrying, delivery.JobId, delivery.Client, job, now, decision.Attempts,
                    error, delivery.Replays),
            };
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
            await deadLetters.IndexDeadLettersAsync([DeadLetterIndexing.Index(letter, clock.GetUtcNow())], CancellationToken.None);
        }
        catch (Exception ex) when (StoreRegistration.IsStoreFailure(ex))
        {
            logger.LogWarning("Job store unavailable ({Reason}); job {JobId} is in {Queue} but not in the console's index until it is rebuilt",
                ex.Message, delivery.JobId, names.DeadQueue);
        }
    }
}
