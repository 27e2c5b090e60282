using System.Threading.RateLimiting;
using RabbitMQ.Client;

namespace Notifications.Core.Broker;

/// <summary>
/// Options for a channel that publishes with confirm tracking and bounds the publishes awaiting a confirm.
/// </summary>
/// <remarks>
/// The bound is a plain <see cref="ConcurrencyLimiter"/>: a publish past it waits its turn. The client's own
/// <see cref="ThrottlingRateLimiter"/> also sleeps 500 to 1,000 ms per publish once half the window is in use,
/// and <c>throttlingPercentage: null</c> does not turn that off (it means the default, 50 %): a window kept
/// full by many concurrent publishers then runs at a few hundred messages a second instead of thousands.
/// </remarks>
public static class ConfirmWindow
{
    public static CreateChannelOptions ChannelOptions(int maxOutstandingConfirms) => new(
        publisherConfirmationsEnabled: true,
        publisherConfirmationTrackingEnabled: true,
        outstandingPublisherConfirmationsRateLimiter: new ConcurrencyLimiter(new ConcurrencyLimiterOptions
        {
            PermitLimit = maxOutstandingConfirms,
            QueueLimit = int.MaxValue, // waiting publishes are bounded by their caller's timeout
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
        }));
}
