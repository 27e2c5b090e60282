using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Notifications.Core.Broker;
using Notifications.Core.Store;
using Notifications.Core.Topology;
using Notifications.Core.Validation;
using Serilog;

namespace Notifications.Core.Configuration;

public static class NotificationsHostExtensions
{
    /// <summary>Binds a section to options checked at start-up, so bad configuration stops the process with one line.</summary>
    public static OptionsBuilder<T> AddValidatedOptions<T>(this IHostApplicationBuilder builder, string section)
        where T : class =>
        builder.Services.AddOptions<T>()
            .Bind(builder.Configuration.GetSection(section))
            .ValidateDataAnnotations()
            .ValidateOnStart();

    /// <summary>Serilog from the <c>Serilog</c> section, with per-job properties from the log context.</summary>
    public static IHostApplicationBuilder AddNotificationsLogging(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSerilog((services, logger) => logger
            .ReadFrom.Configuration(builder.Configuration)
            .ReadFrom.Services(services)
            .Enrich.FromLogContext());
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
        return builder;
    }

    /// <summary>The <c>Email</c> rules and the validator both the API and the worker apply.</summary>
    public static IHostApplicationBuilder AddEmailRules(this IHostApplicationBuilder builder)
    {
        builder.AddValidatedOptions<EmailOptions>(EmailOptions.Section);
        builder.Services.AddSingleton<IValidateOptions<EmailOptions>, EmailOptionsValidator>();
        builder.Services.AddSingleton<EmailJobValidator>();
        return builder;
    }
}
