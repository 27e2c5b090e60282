using Notifications.Worker.Sending;

namespace Notifications.Worker.SendPath;

/// <summary>Take one of the <c>RabbitMq:Concurrency</c> sending slots (the high lane is served first), held until the send ended.</summary>
public sealed class SendingSlotStep(LaneGate slots) : ISendStep
{
    public async Task RunAsync(SendContext context, SendStepDelegate next)
    {
        try
        {
            await slots.EnterAsync(context.Delivery.Lane, context.HoldsAborted);
        }
        catch (OperationCanceledException) when (context.HoldsAborted.IsCancellationRequested)
        {
            context.Outcome = new JobOutcome.Returned("the worker is stopping; it was not sent");
            return;
        }
        try
        {
            await next(context);
        }
        finally
        {
            slots.Leave();
        }
    }
}
