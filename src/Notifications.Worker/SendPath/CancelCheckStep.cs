using Microsoft.Extensions.Logging;
using Notifications.Core.Broker;
using Notifications.Core.Contract;
using Notifications.Core.Store;

namespace Notifications.Worker.SendPath;

/// <summary>
/// A scheduled job come due: take it from <c>scheduled</c> to <c>queued</c> in one step, unless it was cancelled; a
/// cancel that comes after this is answered 409. The store keeps a scheduled job's status until its due time plus
/// <c>Store:Retention</c>, so the answer is there however far ahead it was scheduled. A store that does not answer is
/// asked again, the job held (no attempt spent): a cancelled job is never sent unchecked.
/// </summary>
public sealed partial class CancelCheckStep(IJobStatuses statuses, TimeProvider clock, ILogger<CancelCheckStep> logger) : ISendStep
{
    private static readonly TimeSpan FirstPause = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan LongestPause = TimeSpan.FromSeconds(30);

    public async Task RunAsync(SendContext context, SendStepDelegate next)
    {
        var job = context.RequireJob();
        if (HeaderValues.GetString(context.Delivery.Properties.Headers, JobHeaders.SendAt) is not null)
        {
            switch (await WasCancelledAsync(job, context.HoldsAborted))
            {
                case true:
                    context.Outcome = new JobOutcome.Cancelled();
                    return;
                case null:
                    context.Outcome = new JobOutcome.Returned("the worker is stopping before the store said whether it was cancelled");
                    return;
            }
        }
        await next(context);
    }

    /// <returns>whether it was cancelled; null when the worker stops before the store answered.</returns>
    private async Task<bool?> WasCancelledAsync(EmailJob job, CancellationToken holdsAborted)
    {
        var pause = FirstPause;
        while (true)
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
                LogStoreAway(job.Id, ex.Message, pause);
            }
            try
            {
                await Task.Delay(pause, clock, holdsAborted);
            }
            catch (OperationCanceledException)
            {
                return null;
            }
            pause = TimeSpan.FromTicks(Math.Min(pause.Ticks * 2, LongestPause.Ticks));
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job store unavailable ({Reason}); scheduled job {JobId} waits, unsent, to learn whether it was cancelled (asking again in {Pause})")]
    private partial void LogStoreAway(string jobId, string reason, TimeSpan pause);
}
