using Microsoft.Extensions.Diagnostics.HealthChecks;
using Notifications.Core.Broker;

namespace Notifications.Api.Health;

/// <summary>Ready means a job posted now can be confirmed: the broker connection is open.</summary>
public sealed class BrokerReadyCheck(BrokerConnection broker) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(broker.IsConnected
            ? HealthCheckResult.Healthy("broker connected")
            : HealthCheckResult.Unhealthy("broker not connected"));
}
