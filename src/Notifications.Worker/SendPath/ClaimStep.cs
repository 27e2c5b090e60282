using Notifications.Core.Store;
using Notifications.Worker.Claims;

namespace Notifications.Worker.SendPath;

/// <summary>
/// Claim the send, so no two workers mail one job: a job sent before ends here. Whatever ends the path other than the
/// relay's yes gives the claim up, before the delivery is settled.
/// </summary>
public sealed class ClaimStep(SendGuard guard) : ISendStep
{
    public async Task RunAsync(SendContext context, SendStepDelegate next)
    {
        var job = context.RequireJob();
        if (await guard.ClaimAsync(job.Id, context.SendsAborted) == SendClaim.AlreadySent)
        {
            context.Outcome = JobOutcome.AlreadySent;
            return;
        }
        context.HoldsClaim = true;
        try
        {
            await next(context);
        }
        catch (OperationCanceledException) when (context.HoldsAborted.IsCancellationRequested || context.SendsAborted.IsCancellationRequested)
        {
            context.Outcome = new JobOutcome.Returned("the worker is stopping"); // not the job's failure
        }
        catch (Exception ex)
        {
            context.Outcome = new JobOutcome.Failed(ex);
        }
        finally
        {
            if (context.HoldsClaim && context.Outcome is not JobOutcome.Sent)
            {
                context.HoldsClaim = false;
                await guard.ReleaseAsync(job.Id);
            }
        }
    }
}
