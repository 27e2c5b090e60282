using MassTransit;
using Notifications.Contracts;
using Notifications.Core.Store;

namespace Notifications.Api.Status;

/// <summary>Keeps each job's last known state from the outcome events, for <c>GET /api/emails/{id}</c>.</summary>
public sealed class JobStatusConsumer(IJobStore store) :
    IConsumer<EmailSent>, IConsumer<EmailRetryScheduled>, IConsumer<EmailDeadLettered>, IConsumer<EmailReplayed>
{
    public Task Consume(ConsumeContext<EmailSent> context) =>
        store.SetStatusAsync(new JobStatus(context.Message.JobId, "sent", context.Message.SentAt, context.Message.Attempts),
            context.CancellationToken);

    public Task Consume(ConsumeContext<EmailRetryScheduled> context) =>
        store.SetStatusAsync(new JobStatus(context.Message.JobId, "retrying", context.Message.At, context.Message.Attempt,
            Error: context.Message.Error), context.CancellationToken);

    public Task Consume(ConsumeContext<EmailDeadLettered> context) =>
        store.SetStatusAsync(new JobStatus(context.Message.JobId, "dead", context.Message.At, context.Message.Attempts,
            context.Message.Kind, context.Message.LastError), context.CancellationToken);

    public Task Consume(ConsumeContext<EmailReplayed> context) =>
        store.SetStatusAsync(new JobStatus(context.Message.JobId, "replayed", context.Message.At), context.CancellationToken);
}
