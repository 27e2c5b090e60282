using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Notifications.Core.Bounces;
using Notifications.Core.Broker;
using Notifications.Core.Configuration;
using Notifications.Core.Events;
using Notifications.Core.Store;
using Notifications.Core.Telemetry;
using Notifications.Worker.Claims;
using Notifications.Worker.Consuming;
using Notifications.Worker.SendPath;
using Notifications.Worker.Sending;
using Notifications.Worker.Settling;
using Notifications.Worker.Webhooks;
using Notifications.Worker.Retrying;
using Notifications.Core;

namespace Notifications.Worker;

/// <summary>Builds the worker: consume from <c>email.send</c>, send through the relay, ack, retry or dead-letter.</summary>
public static class NotificationsWorker
{
    /// <param name="args">command-line arguments (override configuration).</param>
    /// <param name="configure">extra configuration sources, added last (tests use it).</param>
    /// <param name="services">changes to the services, made last (tests put a failing store or event publisher in).</param>
    public static IHost Create(string[] args, Action<IConfigurationBuilder>? configure = null, Action<IServiceCollection>? services = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            Args = args,
            ContentRootPath = AppContext.BaseDirectory,
        });
        configure?.Invoke(builder.Configuration);

        builder.AddNotificationsService("notifications-worker");

        builder.AddValidatedOptions<SmtpOptions>(SmtpOptions.Section);
        builder.Services.AddSingleton<IValidateOptions<SmtpOptions>, SmtpOptionsValidator>();
        builder.Services.AddSingleton<IValidateOptions<StoreOptions>, SendLeaseValidator>();
        builder.AddValidatedOptions<RetryOptions>(RetryOptions.Section);
        builder.AddValidatedOptions<Signing.DkimOptions>(Signing.DkimOptions.Section);
        builder.Services.AddSingleton<IPostConfigureOptions<RetryOptions>, RetryOptions.Defaults>();
        builder.Services.AddSingleton<IValidateOptions<RetryOptions>, RetryOptions.Validator>();

        builder.AddOutcomeEvents();
        // The worker has no web server: its Prometheus scrape endpoint is a small listener of its own (port 0: none).
        builder.AddNotificationsTelemetryWithListener("notifications-worker", "Worker", defaultPort: 9464);

        builder.Services.AddSingleton<SmtpClientPool>();
        SmtpRelay.AddRelayPipeline(builder.Services);
        builder.Services.AddSingleton<SmtpRelay>();
        builder.Services.AddOptions<TestModeOptions>().Bind(builder.Configuration.GetSection(TestModeOptions.Section));
        builder.Services.AddSingleton<RelaySimulator>();
        builder.Services.AddSingleton<RelayPacer>();
        builder.Services.AddSingleton<DomainPacer>();
        builder.Services.AddSingleton<Recipients.RecipientFilter>();
        builder.Services.AddSingleton(sp => new LaneGate(sp.GetRequiredService<IOptions<RabbitMqOptions>>().Value.Concurrency));
        builder.Services.AddSingleton<RelayOutage>();
        builder.Services.AddSingleton<SentLedger>();
        builder.Services.AddSingleton<SendGuard>();
        builder.Services.AddSingleton<SentMarkers>();
        builder.Services.AddHostedService(services => services.GetRequiredService<SentMarkers>());
        builder.Services.AddSettling();
        builder.Services.AddHostedService<ClaimRenewalService>();
        builder.Services.AddSingleton<RetryRouter>();
        builder.Services.AddSendPath();
        builder.Services.AddSingleton<JobHandler>();
        builder.Services.AddHostedService<EmailJobConsumer>();
        builder.AddWebhooks();
        builder.AddReturnPaths();
        builder.AddReputationOptions();
        builder.Services.AddSingleton<Core.Reputation.ReputationGuard>();
        builder.Services.AddSingleton<Bounces.BounceRecorder>();
        builder.Services.AddSingleton<Bounces.InboundPath>();
        builder.Services.AddSingleton<Bounces.InboundSettlement>();
        builder.Services.AddHostedService<Bounces.InboundConsumer>();
        // The message log: written here from message.log, off the send path; its expired data deleted here too.
        builder.Services.AddHostedService<MessageLog.MessageLogWriter>();
        builder.Services.AddHostedService<MessageLog.MessageLogRetention>();
        services?.Invoke(builder.Services);
        return builder.Build();
    }
}
