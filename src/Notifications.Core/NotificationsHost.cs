using Notifications.Core.MessageLog;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Notifications.Core.Broker;
using Notifications.Core.Clients;
using Notifications.Core.Store;
using Notifications.Core.Unsubscribing;
using Notifications.Core.Topology;
using Notifications.Core.Validation;
using Serilog;

using Notifications.Core.Configuration;

namespace Notifications.Core;

/// <summary>What every host of the service stands on, composed here at the root of Core: logging, the broker, the email rules, the job store.</summary>
public static class NotificationsHost
{
    /// <summary>Serilog from the <c>Serilog</c> section, with per-job properties from the log context.</summary>
    public static IHostApplicationBuilder AddNotificationsLogging(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSerilog((services, logger) => logger
            .ReadFrom.Configuration(builder.Configuration)
            .ReadFrom.Services(services)
            .Enrich.FromLogContext()
            // Bad configuration is reported as one line by StartupFailure; the host's own report of it is a 50-line stack
            // trace, and MassTransit then warns that the bus it never started cannot be stopped.
            .Filter.ByExcluding(e => (e.MessageTemplate.Text == "Hosting failed to start"
                    && e.Exception is not null && StartupFailure.Describe(e.Exception) is not null)
                || (e.Level == Serilog.Events.LogEventLevel.Warning && e.Exception is null
                    && e.RenderMessage() is var message && message.StartsWith("Failed to stop bus", StringComparison.Ordinal)
                    && message.Contains("Not Started", StringComparison.Ordinal))));
        return builder;
    }

    /// <summary>The broker connection, the topology and the confirmed publisher every component shares.</summary>
    public static IHostApplicationBuilder AddNotificationsBroker(this IHostApplicationBuilder builder, string clientName)
    {
        builder.AddValidatedOptions<RabbitMqOptions>(RabbitMqOptions.Section);
        builder.Services.AddSingleton<IValidateOptions<RabbitMqOptions>, RabbitMqOptionsValidator>();
        builder.Services.AddSingleton(new BrokerClientName(clientName));
        builder.Services.AddSingleton(sp => new TopologyNames(sp.GetRequiredService<IOptions<RabbitMqOptions>>().Value.Prefix));
        builder.Services.AddSingleton<TopologyDeclarer>();
        builder.Services.AddSingleton<BrokerConnection>();
        builder.Services.AddSingleton<ConfirmedPublisher>();
        builder.Services.AddHostedService<BrokerConnectionService>();
        builder.Services.AddHostedService<ShippedSecrets>();
        return builder;
    }

    /// <summary>What the API and the worker both stand on: logging, the broker, the email rules and the job store.</summary>
    public static IHostApplicationBuilder AddNotificationsService(this IHostApplicationBuilder builder, string clientName)
    {
        builder.Services.TryAddSingleton(TimeProvider.System); // the one clock; tests put their own in its place
        builder.AddNotificationsLogging();
        builder.AddNotificationsBroker(clientName);
        builder.AddEmailRules();
        builder.AddJobStore();
        builder.AddMessageLog();
        return builder;
    }

    /// <summary>The <c>Email</c> rules and the validator both the API and the worker apply.</summary>
    public static IHostApplicationBuilder AddEmailRules(this IHostApplicationBuilder builder)
    {
        builder.AddClients();
        builder.AddValidatedOptions<EmailOptions>(EmailOptions.Section);
        builder.Services.AddSingleton<IValidateOptions<EmailOptions>, EmailOptionsValidator>();
        builder.Services.AddSingleton<EmailJobValidator>();
        builder.AddUnsubscribeLinks();
        return builder;
    }
}
