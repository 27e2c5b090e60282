using Notifications.Worker.Webhooks;

namespace Notifications.Tests.Unit;

/// <summary>
/// An endpoint's slots: a burst a healthy endpoint drains waits its turn (nothing goes back to the broker, which made
/// each extra callback a retry-queue round trip), and only a slow one sends its backlog back.
/// </summary>
public sealed class WebhookEndpointTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(1);

    [Fact]
    public async Task A_burst_to_a_healthy_endpoint_waits_for_slots_instead_of_going_back_to_the_broker()
    {
        var endpoint = new WebhookEndpoint(2);
        // The worker's prefetch (64) arrives at once: 2 take the slots, the other 62 wait although the cap when slow is 4.
        var entries = Enumerable.Range(0, 64).Select(_ => endpoint.EnterAsync(maxWaitingWhenSlow: 4, Patience)).ToList();
        var served = 0;
        while (entries.Count > 0)
        {
            var done = await Task.WhenAny(entries);
            entries.Remove(done);
            Assert.True(await done, "a delivery was sent back to the broker while the endpoint kept up");
            served++;
            endpoint.Slots.Release(); // the POST answered
        }
        Assert.Equal(64, served);
        Assert.False(endpoint.Slow);
    }

    [Fact]
    public async Task Once_a_wait_runs_out_the_endpoint_is_slow_and_its_backlog_goes_back_until_a_slot_comes_in_time()
    {
        var endpoint = new WebhookEndpoint(1);
        Assert.True(await endpoint.EnterAsync(2, Patience)); // its one request hangs
        Assert.False(await endpoint.EnterAsync(2, TimeSpan.FromMilliseconds(50))); // waited in vain
        Assert.True(endpoint.Slow);

        var waiting = new[] { endpoint.EnterAsync(2, Patience), endpoint.EnterAsync(2, Patience) };
        Assert.False(await endpoint.EnterAsync(2, Patience)); // a third waiter is refused at once while slow
        endpoint.Slots.Release(); // the hanging request ended
        Assert.True(await await Task.WhenAny(waiting));
        Assert.False(endpoint.Slow);
    }
}
