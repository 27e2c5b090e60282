using MassTransit;
using Notifications.Contracts;
using Notifications.Core.Store;

namespace Notifications.Api.Status;

/// <summary>Keeps each job's last known state from the outcome events, for <c>GET /api/emails/{id}</c>.</summary>
public sealed class JobStatusConsumer(IJobStatuses statuses) :
    IConsumer<EmailSent>, IConsumer<EmailRetryScheduled>, IConsumer<EmailDeadLettered>, IConsumer<EmailReplayed>
{
    public Task Consume(ConsumeContext<EmailSent> context) =>
        statuses.SetStatusAsync(new JobStatus(context.Message.JobId, JobStatus.Sent, context.Message.SentAt, context.Message.Attempts,
            Replays: context.Message.Replays, Client: context.Message.Client), context.CancellationToken);

    public Task Consume(ConsumeContext<EmailRetryScheduled> context) =>
        statuses.SetStatusAsync(new JobStatus(context.Message.JobId, JobStatus.Retrying, context.Message.At, context.Message.Attempt,
            Error: context.Message.Error, Replays: context.Message.Replays, Client: context.Message.Client), context.CancellationToken);

    public Task Consume(ConsumeContext<EmailDeadLettered> context) =>
        statuses.SetStatusAsync(new JobStatus(context.Message.JobId, JobStatus.Dead, context.Message.At, context.Message.Attempts,
            context.Message.Kind, context.Message.LastError, context.Message.Replays, context.Message.Client), context.CancellationToken);

    public Task Consume(ConsumeContext<EmailReplayed> context) =>
        statuses.SetStatusAsync(new JobStatus(context.Message.JobId, JobStatus.Replayed, context.Message.At,
            Replays: context.Message.Replays, Client: context.Message.Client), context.CancellationToken);
}
