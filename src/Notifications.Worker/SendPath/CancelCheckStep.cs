using Microsoft.Extensions.Logging;
using Notifications.Core.Broker;
using Notifications.Core.Contract;
using Notifications.Core.Store;

namespace Notifications.Worker.SendPath;

/// <summary>
/// A scheduled job come due: take it from <c>scheduled</c> to <c>queued</c> in one step, unless it was cancelled; a
/// cancel that comes after this is answered 409. A store that does not answer says not cancelled (sent, at least once).
/// </summary>
public sealed class CancelCheckStep(IJobStatuses statuses, TimeProvider clock, ILogger<CancelCheckStep> logger) : ISendStep
{
    public async Task RunAsync(SendContext context, SendStepDelegate next)
    {
        var job = context.RequireJob();
        if (HeaderValues.GetString(context.Delivery.Properties.Headers, JobHeaders.SendAt) is not null && await WasCancelledAsync(job))
        {
            context.Outcome = new JobOutcome.Cancelled();
            return;
        }
        await next(context);
    }

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
}
