namespace Notifications.Worker.Webhooks;

/// <summary>One URL's slots, and how many deliveries wait for one: a few may wait a moment, the rest go back to the broker.</summary>
public sealed class WebhookEndpoint(int slots)
{
    private int _waiting;

    public SemaphoreSlim Slots { get; } = new(slots);

    public async Task<bool> EnterAsync(int maxWaiting, TimeSpan patience)
    {
        if (Slots.Wait(0))
            return true;
        if (Interlocked.Increment(ref _waiting) > maxWaiting)
        {
            Interlocked.Decrement(ref _waiting);
            return false;
        }
        try
        {
            return await Slots.WaitAsync(patience);
        }
        finally
        {
            Interlocked.Decrement(ref _waiting);
        }
    }
}
