using System.Globalization;
using Microsoft.Extensions.Logging;
using Notifications.Core.Broker;
using Notifications.Core.Contract;
using Notifications.Core.Store;
using Notifications.Worker.Retrying;
using Notifications.Worker.Transport;

namespace Notifications.Worker.Settling;

/// <summary>
/// Recipients the relay refused for now (4xx at <c>RCPT TO</c>) while the others got the mail: a follow-up job, the same
/// mail for them alone, waits in the job's next retry queue like a retry of the whole job would. Its id comes from the
/// parent's and the attempt (<c>{id}-r{attempt}</c>), so publishing it twice (a redelivered parent) still mails them once.
/// </summary>
public sealed class FollowUpJobs(
    ConfirmedPublisher publisher,
    RetryRouter router,
    IJobStatuses statuses,
    TimeProvider clock,
    ILogger<FollowUpJobs> logger)
{
    public static string IdFor(string parentId, int attempt) => $"{parentId}-r{attempt.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>Publishes the follow-up job, confirmed; the parent's delivery may be acked only after this returns.</summary>
    /// <exception cref="PublishFailedException">the broker did not take it: return the parent, whose redelivery publishes it again.</exception>
    public async Task PublishAsync(Delivery delivery, EmailJob job, IReadOnlyList<RefusedRecipient> deferred, int attempt)
    {
        var refused = deferred.Select(d => d.Address).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var followUp = job with
        {
            Id = IdFor(job.Id, attempt),
            OnlyTo = [.. job.EnvelopeRecipients().Where(r => EmailAddresses.TryParseMailbox(r, out var m, out _) && refused.Contains(m!.Address))],
        };
        var error = JobCodec.OneLine("refused for now at RCPT TO: " + string.Join("; ", deferred.Select(d => $"{d.Address}: {d.Reply}")));
        var decision = router.Decide(FailureKind.Transient, attempt - 1, delivery.Lane);
        var properties = JobProperties.ForNewJob(followUp);
        JobProperties.RecordFailure(properties.Headers!, decision.Attempts, error, decision.Kind.ToWire(), clock.GetUtcNow());
        properties.Headers![JobHeaders.Replays] = delivery.Replays;
        if (decision.Delay is { } delay)
            properties.Expiration = JobProperties.Expiration(delay);

        await publisher.PublishAsync(decision.RoutingKey, properties, JobCodec.Encode(followUp), CancellationToken.None);
        logger.LogInformation("Job {JobId}: {Count} recipient(s) refused for now; follow-up job {FollowUpId} via {Destination}",
            job.Id, deferred.Count, followUp.Id, decision.RoutingKey);
        try
        {
            await statuses.SetStatusAsync(decision.IsDeadLetter
                ? new JobStatus(followUp.Id, JobStatus.Dead, clock.GetUtcNow(), decision.Attempts, decision.Kind.ToWire(), error, delivery.Replays, job.Client)
                : new JobStatus(followUp.Id, JobStatus.Retrying, clock.GetUtcNow(), decision.Attempts, Error: error, Replays: delivery.Replays, Client: job.Client),
                CancellationToken.None);
        }
        catch (Exception ex) when (StoreRegistration.IsStoreFailure(ex))
        {
            logger.LogWarning("Job store unavailable ({Reason}); the status of follow-up job {FollowUpId} could not be recorded", ex.Message, followUp.Id);
        }
    }
}
