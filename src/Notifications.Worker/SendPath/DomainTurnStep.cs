using Notifications.Worker.Sending;

namespace Notifications.Worker.SendPath;

/// <summary>
/// Pace by recipient domain: wait for each limited domain's turn before a sending slot is taken, so a job for a slow
/// domain waits holding neither a slot nor a connection. The turn is held until the send ended: the domain's window at
/// the relay counts the mail until then.
/// </summary>
public sealed class DomainTurnStep(DomainPacer domains, Core.Clients.ClientRegistry clients) : ISendStep
{
    public async Task RunAsync(SendContext context, SendStepDelegate next)
    {
        if (clients.Simulates(context.RequireJob()))
        {
            // A test client's mail goes to no domain's servers: it takes no turn from live mail to them.
            await next(context);
            return;
        }
        IAsyncDisposable turn;
        try
        {
            turn = await domains.WaitTurnAsync(context.RequireEnvelope().Send, context.HoldsAborted);
        }
        catch (OperationCanceledException) when (context.HoldsAborted.IsCancellationRequested)
        {
            context.Outcome = new JobOutcome.Returned("the worker is stopping; it was not sent");
            return;
        }
        await using (turn)
            await next(context);
    }
}
