namespace Notifications.Worker.Webhooks;

/// <summary>
/// One URL's slots, and how many deliveries wait for one. While the endpoint keeps up, every delivery the broker gave
/// this worker may wait its turn (a burst of the prefetch is normal and drains in milliseconds). Once a delivery waited
/// its whole patience without a slot the endpoint is slow: then only a few may wait and the rest go back to the broker,
/// so its backlog cannot fill the deliveries other endpoints need. The first delivery that gets a slot in time makes it
/// healthy again.
/// </summary>
public sealed class WebhookEndpoint(int slots)
{
    private int _waiting;
    private volatile bool _slow;

    public SemaphoreSlim Slots { get; } = new(slots);

    /// <summary>True while the last delivery that waited for a slot did not get one within its patience.</summary>
    public bool Slow => _slow;

    /// <returns>true with a slot held (release it through <see cref="Slots"/>); false to send the delivery back to wait in the broker.</returns>
    public async Task<bool> EnterAsync(int maxWaitingWhenSlow, TimeSpan patience)
    {
        if (Slots.Wait(0))
            return true;
        if (Interlocked.Increment(ref _waiting) > maxWaitingWhenSlow && _slow)
        {
            Interlocked.Decrement(ref _waiting);
            return false;
        }
        try
        {
            var entered = await Slots.WaitAsync(patience);
            _slow = !entered;
            return entered;
        }
        finally
        {
            Interlocked.Decrement(ref _waiting);
        }
    }
}
