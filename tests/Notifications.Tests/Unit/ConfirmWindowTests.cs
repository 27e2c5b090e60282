using System.Threading.RateLimiting;
using Notifications.Core.Broker;

namespace Notifications.Tests.Unit;

public sealed class ConfirmWindowTests
{
    [Fact]
    public async Task A_publish_inside_the_window_never_waits_however_full_the_window_is()
    {
        var limiter = ConfirmWindow.ChannelOptions(4).OutstandingPublisherConfirmationsRateLimiter!;
        var leases = new List<RateLimitLease>();
        for (var i = 0; i < 4; i++)
        {
            // The client's ThrottlingRateLimiter answers the third and fourth with a Task.Delay of 500 ms and more.
            var acquire = limiter.AcquireAsync();
            Assert.True(acquire.IsCompleted, $"publish {i + 1} of 4 had to wait");
            leases.Add(await acquire);
            Assert.True(leases[^1].IsAcquired);
        }

        var fifth = limiter.AcquireAsync();
        Assert.False(fifth.IsCompleted); // past the window: waits for a confirm
        leases[0].Dispose();
        using var lease = await fifth;
        Assert.True(lease.IsAcquired);
        foreach (var held in leases.Skip(1))
            held.Dispose();
    }
}
