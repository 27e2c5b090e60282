using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Notifications.Core.Topology;

namespace Notifications.Core.Broker;

/// <summary>Runs the connect loop without holding up start-up; a topology mismatch stops the process with exit code 1.</summary>
public sealed class BrokerConnectionService(
    BrokerConnection connection,
    IHostApplicationLifetime lifetime,
    ILogger<BrokerConnectionService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await connection.ConnectAsync(stoppingToken);
        }
        catch (TopologyMismatchException ex)
        {
            logger.LogCritical("Cannot start: {Problem}", ex.Message);
            Environment.ExitCode = 1;
            lifetime.StopApplication();
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopped before the broker ever answered.
        }
    }
}
