using Notifications.Core.MessageLog;
using System.Diagnostics;
using Microsoft.AspNetCore.Http.HttpResults;
using Notifications.Core.Broker;
using Notifications.Core.Contract;
using Notifications.Core.Store;
using Notifications.Core.Telemetry;
using Notifications.Core.Topology;

namespace Notifications.Api.Sending;

/// <summary>
/// Publish: the job to its lane (or, scheduled, to the delay queues), persistent and confirmed, with the caller's trace
/// context; then its first status. Null on success; else the 503 that says whether it may have arrived.
/// </summary>
public sealed class JobPublication(
    ConfirmedPublisher publisher,
    ScheduledJobs scheduled,
    IJobStatuses statuses,
    NotificationsTelemetry telemetry,
    SendEmailLog log,
    MessageLogPublisher messageLog,
    TimeProvider clock)
{
    /// <param name="via">how it came: <c>http</c>, <c>batch</c>, <c>smtp</c> (the message log's <c>accepted</c> says it).</param>
    public async Task<ProblemHttpResult?> PublishAsync(EmailJob job, string via, CancellationToken cancellationToken) =>
        await TryPublishAsync(job, via, cancellationToken) switch
        {
            null => null,
            { MayHaveArrived: true } => TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Outcome unknown",
                detail: "The broker did not confirm the job in time: it may still be queued and sent. " +
                    "Retry with the same Idempotency-Key; the service then sends it at most once."),
            _ => TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Queue unavailable",
                detail: "The broker cannot take jobs right now; nothing was queued. Try again later."),
        };

    /// <summary>The publish itself, for any front door (HTTP, SMTP submission) to answer its own way.</summary>
    /// <returns>null once the broker confirmed the job; else why it did not (and whether it may have arrived).</returns>
    public async Task<PublishFailedException?> TryPublishAsync(EmailJob job, string via, CancellationToken cancellationToken)
    {
        var routingKey = TopologyNames.WorkKey(job.Lane);
        using var activity = NotificationsTelemetry.Source.StartActivity($"{routingKey} publish", ActivityKind.Producer);
        activity?.SetTag("messaging.system", "rabbitmq").SetTag("messaging.destination.name", routingKey)
            .SetTag("messaging.message.id", job.Id);
        var properties = JobProperties.ForNewJob(job);
        TraceContext.Inject(activity, properties.Headers!);
        try
        {
            if (job.SendAt is { } dueAt)
                await scheduled.PublishAsync(job, properties, dueAt - clock.GetUtcNow(), cancellationToken);
            else
                await publisher.PublishAsync(routingKey, properties, JobCodec.Encode(job), cancellationToken);
        }
        catch (PublishFailedException ex)
        {
            log.NotAccepted(job.Id, ex.Message);
            return ex;
        }
        telemetry.Accepted.Add(1, new KeyValuePair<string, object?>("mode", Core.Clients.ClientModes.Tag(job.IsTest)));
        // Beside its status, as best effort: the job is safe either way, and the worker's entries carry its facts too.
        await Task.WhenAll(RecordStatusAsync(job), messageLog.TryPublishAsync(LogEntries.Accepted(job, via), CancellationToken.None));
        log.Queued(job.Id, job.To.Count + job.Cc.Count + job.Bcc.Count);
        return null;
    }

    /// <summary>The job is safe in the broker; a store that is away costs only its status, which starts late with the first event.</summary>
    private async Task RecordStatusAsync(EmailJob job)
    {
        try
        {
            await statuses.SetStatusAsync(new JobStatus(job.Id, job.SendAt is null ? JobStatus.Queued : JobStatus.Scheduled, job.CreatedAt,
                Client: job.Client, SendAt: job.SendAt), CancellationToken.None);
        }
        catch (Exception ex) when (StoreRegistration.IsStoreFailure(ex))
        {
            log.StatusNotStored(job.Id, ex.Message);
        }
    }
}
