using Microsoft.Extensions.DependencyInjection;
using Notifications.Core.Telemetry;
using Notifications.Worker.Settling;

namespace Notifications.Tests.Infrastructure;

/// <summary>The settling stage as the worker registers it (options, announcer, its pipeline), on a test's clock and with its steps only.</summary>
public static class SettlingServices
{
    public static IServiceProvider Build(TimeProvider clock, params IAnnouncementStep[] steps)
    {
        var services = new ServiceCollection()
            .AddLogging()
            .AddMetrics()
            .AddSingleton<Microsoft.Extensions.Configuration.IConfiguration>(new Microsoft.Extensions.Configuration.ConfigurationBuilder().Build())
            .AddSingleton(clock)
            .AddSingleton<NotificationsTelemetry>()
            .AddSettling();
        foreach (var descriptor in services.Where(d => d.ServiceType == typeof(IAnnouncementStep)).ToList())
            services.Remove(descriptor);
        foreach (var step in steps)
            services.AddSingleton(step);
        return services.BuildServiceProvider();
    }
}
