using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Notifications.Api.Backpressure;
using Notifications.Api.Health;
using Notifications.Api.Proxies;
using Notifications.Api.Sending;
using Notifications.Api.Clients;
using Notifications.Api.Console;
using Microsoft.Extensions.Options;
using Notifications.Core.Clients;
using MassTransit;
using Notifications.Api.Status;
using Notifications.Api.Submission;
using Notifications.Api.Messages;
using Notifications.Api.Erasures;
using Notifications.Api.Suppressions;
using Notifications.Api.Templates;
using Notifications.Api.Unsubscribing;
using Notifications.Core.Configuration;
using Notifications.Core.Events;
using Notifications.Core.Telemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using Notifications.Core;

namespace Notifications.Api;

/// <summary>Builds the HTTP front door: validate, publish with a confirm, answer 202.</summary>
public static class NotificationsApi
{
    /// <param name="args">command-line arguments (override configuration).</param>
    /// <param name="configure">extra configuration sources, added last (tests use it).</param>
    /// <param name="services">changes to the services, made last (tests put a failing store in).</param>
    public static WebApplication Create(string[] args, Action<IConfigurationBuilder>? configure = null, Action<IServiceCollection>? services = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = args,
            ContentRootPath = AppContext.BaseDirectory,
            // The console's pages are compiled into this assembly, whichever program hosts it (tests run it in theirs).
            ApplicationName = typeof(NotificationsApi).Assembly.GetName().Name,
        });
        configure?.Invoke(builder.Configuration);

        builder.AddNotificationsService("notifications-api");
        builder.AddValidatedOptions<ApiOptions>(ApiOptions.Section);
        builder.AddNotificationsTelemetry("notifications-api",
            tracing => tracing.AddAspNetCoreInstrumentation(),
            metrics => metrics.AddAspNetCoreInstrumentation().AddPrometheusExporter());
        builder.Services.AddSingleton<QueueDepthMonitor>();
        builder.Services.AddSingleton<SendEmailLog>();
        builder.Services.AddSingleton<JobPublication>();
        builder.Services.AddSingleton<JobIntake>();
        builder.Services.AddSingleton<Unsubscribing.ListUnsubscriber>();
        builder.Services.AddSingleton<Core.Webhooks.WebhookOutbox>();
        builder.AddOutcomeEvents();
        builder.Services.AddOptions<TemplatesOptions>().Bind(builder.Configuration.GetSection(TemplatesOptions.Section));
        builder.Services.AddSingleton<TemplateStore>();
        builder.Services.AddSingleton<ScheduledJobs>();
        builder.Services.AddSingleton<Erasures.Erasure>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<QueueDepthMonitor>());
        builder.Services.AddSingleton<PausedClients>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<PausedClients>());
        builder.AddSmtpSubmission();
        builder.Services.AddProblemDetails();
        builder.AddTrustedProxies();
        builder.AddClientAuthentication();
        builder.AddOperatorConsole();
        builder.Services.AddClientRateLimiting();
        builder.Services.AddOpenApi(openApi => openApi.AddDocumentTransformer<BearerKeyDocument>()
            .AddDocumentTransformer<Documentation.ApiDocument>());
        builder.Services.AddHealthChecks().AddCheck<BrokerReadyCheck>("broker", tags: ["ready"]);
        services?.Invoke(builder.Services);

        var app = builder.Build();
        app.UseForwardedHeaders(); // first: everything after sees the real caller and scheme
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseRateLimiter();
        if (!app.Services.GetRequiredService<IOptions<AuthOptions>>().Value.Required)
            app.Logger.LogWarning("Auth:Required is false: any caller that reaches the API sends mail as Email:AllowedFrom without a key");
        app.MapSendEmail();
        app.MapSendEmailBatch();
        app.MapJobStatus();
        app.MapSuppressions();
        app.MapTemplates();
        app.MapUnsubscribe();
        app.MapMessages();
        app.MapErasures();
        app.MapOperatorConsole();
        app.MapOpenApi(); // /openapi/v1.json, open like /health and /metrics
        app.MapPrometheusScrapingEndpoint("/metrics");
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false });
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = check => check.Tags.Contains("ready") });
        return app;
    }
}
