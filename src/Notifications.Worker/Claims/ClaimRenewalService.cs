using Microsoft.Extensions.Hosting;

namespace Notifications.Worker.Claims;

/// <summary>Hosts the one loop that renews the send claims of the sends in flight.</summary>
public sealed class ClaimRenewalService(SendGuard guard) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => guard.RenewWhileSendingAsync(stoppingToken);
}
