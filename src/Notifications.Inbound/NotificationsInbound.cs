using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Notifications.Core.Bounces;
using Notifications.Core.Telemetry;
using Notifications.Core;

namespace Notifications.Inbound;

/// <summary>
/// Builds the inbound receiver: an SMTP server for <c>Bounces:Domain</c> that publishes each message to
/// <c>email.inbound</c> for the worker to read. It needs the broker only: no job store, no relay.
/// </summary>
public static class NotificationsInbound
{
    /// <param name="configure">extra configuration sources, added last (tests use it).</param>
    public static IHost Create(string[] args, Action<IConfigurationBuilder>? configure = null, Action<IServiceCollection>? services = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            Args = args,
            ContentRootPath = AppContext.BaseDirectory,
        });
        configure?.Invoke(builder.Configuration);
        builder.Services.AddSingleton(TimeProvider.System);
        builder.AddNotificationsLogging();
        builder.AddNotificationsBroker("notifications-inbound");
        builder.AddReturnPaths();
        builder.Services.AddOptions<BouncesOptions>()
            .Validate(o => o.Enabled, "Bounces:Domain must be set for the inbound receiver (e.g. bounces.example.com): it serves only that domain");
        builder.AddNotificationsTelemetryWithListener("notifications-inbound", "Inbound", defaultPort: 9465);
        builder.Services.AddSingleton<BounceDomainFilter>();
        builder.Services.AddSingleton<InboundMessageStore>();
        builder.Services.AddHostedService<InboundServer>();
        services?.Invoke(builder.Services);
        return builder.Build();
    }
}
