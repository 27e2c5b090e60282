using Notifications.Worker.SendPath;
using Notifications.Worker.Settling;
using Notifications.Worker.Sending;
using Notifications.Worker.Transport;

namespace Notifications.Worker.Consuming;

/// <summary>
/// What happens to one delivery: it goes through the <see cref="SendPath.SendPath"/>'s steps, and the
/// <see cref="Settlement"/> settles it by how that ended (ack, retry, dead-letter or return). A relay outage is not the
/// job's failure: the job waits, costing no attempt. Once the relay said yes, nothing after the 250 comes back to the path.
/// </summary>
public sealed class JobHandler(SendPath.SendPath path, Settlement settlement, RelayOutage outage)
{
    /// <param name="delivery">the delivery to settle.</param>
    /// <param name="holdsAborted">cancelled at shutdown: a job waiting for the relay goes back to the queue at once.</param>
    /// <param name="sendsAborted">cancelled once the shutdown grace period is over: a send in flight is abandoned.</param>
    public async Task HandleAsync(Delivery delivery, CancellationToken holdsAborted, CancellationToken sendsAborted)
    {
        if (outage.IsPaused)
        {
            await delivery.ReturnAsync(); // consumption is being stopped; this one came in before the cancel
            return;
        }
        var context = new SendContext(delivery, holdsAborted, sendsAborted);
        await path.RunAsync(context);
        await settlement.SettleAsync(context);
    }
}
