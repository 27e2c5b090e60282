using Notifications.Core.Topology;

namespace Notifications.Worker.Sending;

/// <summary>
/// The worker's <c>RabbitMq:Concurrency</c> slots, shared by both lanes: a freed slot goes to a waiting high-lane
/// delivery before any normal one, so a high job waits for one send to finish, never behind the normal backlog.
/// Strict preference: while high jobs keep arriving, normal ones wait (the high lane is for the few urgent mails).
/// </summary>
public sealed class LaneGate(int slots)
{
    private readonly Lock _lock = new();
    private readonly LinkedList<TaskCompletionSource> _high = new();
    private readonly LinkedList<TaskCompletionSource> _normal = new();
    private int _free = slots;

    public int Waiting(Lane lane)
    {
        lock (_lock)
            return (lane == Lane.High ? _high : _normal).Count;
    }

    /// <summary>Takes a slot, waiting behind every high-lane waiter (and, for a normal delivery, every normal one before it).</summary>
    public async ValueTask EnterAsync(Lane lane, CancellationToken cancellationToken)
    {
        LinkedListNode<TaskCompletionSource> node;
        lock (_lock)
        {
            if (_free > 0 && (lane == Lane.High || _high.Count == 0))
            {
                _free--;
                return;
            }
            node = (lane == Lane.High ? _high : _normal).AddLast(new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        }
        await using var registration = cancellationToken.Register(() =>
        {
            lock (_lock)
            {
                if (node.List is null)
                    return; // handed a slot already: the waiter owns it and releases it
                node.List.Remove(node);
            }
            node.Value.TrySetCanceled(cancellationToken);
        });
        await node.Value.Task;
    }

    /// <summary>Gives the slot to the next waiter, high lane first.</summary>
    public void Leave()
    {
        TaskCompletionSource? next;
        lock (_lock)
        {
            var queue = _high.Count > 0 ? _high : _normal.Count > 0 ? _normal : null;
            if (queue is null)
            {
                _free++;
                return;
            }
            next = queue.First!.Value;
            queue.RemoveFirst();
        }
        next.TrySetResult();
    }
}
