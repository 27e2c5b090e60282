using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Polly;
using Notifications.Core.Clients;
using Notifications.Core.Configuration;
using Notifications.Core.Topology;
using Notifications.Core.Webhooks;

namespace Notifications.Worker.Webhooks;

public static class WebhookRegistration
{
    /// <summary>
    /// The <c>Webhooks</c> section, every client's webhook checked at start-up, the outbox the worker enqueues outcomes
    /// through, and the sender with its HTTP client: no redirects followed, a timeout, and a circuit per endpoint.
    /// </summary>
    public static IHostApplicationBuilder AddWebhooks(this IHostApplicationBuilder builder)
    {
        builder.AddValidatedOptions<WebhookOptions>(WebhookOptions.Section);
        builder.Services.AddSingleton<IPostConfigureOptions<WebhookOptions>, DefaultDelays>();
        builder.Services.AddSingleton<IValidateOptions<WebhookOptions>, DelaysValidator>();
        builder.Services.AddSingleton<IValidateOptions<ClientsOptions>, WebhookTargetsValidator>();
        builder.Services.AddSingleton<WebhookOutbox>();

        builder.Services.AddHttpClient(WebhookPoster.HttpClientName, (services, client) =>
            {
                // A backstop only: the resilience handler's timeout answers first.
                client.Timeout = services.GetRequiredService<IOptions<WebhookOptions>>().Value.Timeout + TimeSpan.FromSeconds(5);
                client.DefaultRequestHeaders.UserAgent.ParseAdd("Notifications-Webhooks/1.0");
            })
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler
            {
                // A redirect is an answer that is not 2xx: following it would send the signed body somewhere unconfigured.
                AllowAutoRedirect = false,
                UseCookies = false,
                PooledConnectionLifetime = TimeSpan.FromMinutes(2),
                ConnectTimeout = TimeSpan.FromSeconds(5),
            })
            // The factory's own request logging (a scope and two entries per POST) costs CPU on every callback; the sender
            // logs what came of each one itself.
            .RemoveAllLoggers()
            .AddResilienceHandler("webhooks", (pipeline, context) =>
            {
                var options = context.ServiceProvider.GetRequiredService<IOptions<WebhookOptions>>().Value;
                // Outermost, so a timeout counts as a failure of the endpoint; one circuit per endpoint (SelectPipelineByAuthority).
                pipeline.AddCircuitBreaker(new HttpCircuitBreakerStrategyOptions
                {
                    FailureRatio = options.CircuitFailureRatio,
                    MinimumThroughput = options.CircuitMinimumThroughput,
                    SamplingDuration = options.CircuitSamplingDuration,
                    BreakDuration = options.CircuitBreakDuration,
                });
                pipeline.AddTimeout(options.Timeout);
            })
            .SelectPipelineByAuthority();
        builder.Services.AddSingleton<WebhookPoster>();
        builder.Services.AddSingleton<WebhookSettlement>();
        builder.Services.AddHostedService<WebhookSender>();
        return builder;
    }

    /// <summary>Binding appends to a list, so the defaults go in only when configuration gave none.</summary>
    private sealed class DefaultDelays : IPostConfigureOptions<WebhookOptions>
    {
        public void PostConfigure(string? name, WebhookOptions options)
        {
            if (options.Delays.Count == 0)
                options.Delays.AddRange(WebhookOptions.DefaultDelays);
        }
    }

    private sealed class DelaysValidator : IValidateOptions<WebhookOptions>
    {
        public ValidateOptionsResult Validate(string? name, WebhookOptions options)
        {
            if (options.Delays.Count > TopologyNames.WebhookRetryQueueCount)
                return ValidateOptionsResult.Fail(
                    $"Webhooks:Delays has {options.Delays.Count} entries; there are {TopologyNames.WebhookRetryQueueCount} webhook retry queues");
            for (var i = 0; i < options.Delays.Count; i++)
                if (options.Delays[i] < TimeSpan.FromMilliseconds(1) || options.Delays[i] > TimeSpan.FromDays(1))
                    return ValidateOptionsResult.Fail($"Webhooks:Delays:{i} must be between 1 ms and 1 day");
            return ValidateOptionsResult.Success;
        }
    }
}
