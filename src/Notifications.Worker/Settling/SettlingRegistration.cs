using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Retry;

namespace Notifications.Worker.Settling;

public static class SettlingRegistration
{
    /// <summary>
    /// The settling stage: <see cref="Settlement"/> and the route actions it picks among, the announcer, its steps in the
    /// order they run (event, webhook, status, message log), and the resilience pipeline they run
    /// under, on the host's <see cref="TimeProvider"/>.
    /// </summary>
    public static IServiceCollection AddSettling(this IServiceCollection services)
    {
        services.AddOptions<SettlingOptions>().BindConfiguration(SettlingOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<IAnnouncementStep, EventAnnouncement>();
        services.AddSingleton<IAnnouncementStep, WebhookAnnouncement>();
        services.AddSingleton<IAnnouncementStep, StatusAnnouncement>();
        services.AddSingleton<IAnnouncementStep, LogAnnouncement>();
        services.AddSingleton<Announcer>();
        // The route actions Settlement picks among: ack a sent job, park a failed one's copy, close one that ends unsent.
        services.AddSingleton<SentJobs>();
        services.AddSingleton<FollowUpJobs>();
        services.AddSingleton<FailureParker>();
        services.AddSingleton<UnsentJobs>();
        services.AddSingleton<Settlement>();
        services.AddResiliencePipeline(Announcer.Pipeline, (pipeline, context) =>
        {
            var settings = context.ServiceProvider.GetRequiredService<IOptions<SettlingOptions>>().Value;
            pipeline.AddRetry(new RetryStrategyOptions
            {
                // Until it is confirmed, or the caller no longer holds the delivery: the broker's copy of the job is the outbox.
                MaxRetryAttempts = int.MaxValue,
                BackoffType = DelayBackoffType.Exponential,
                Delay = settings.FirstRetry,
                MaxDelay = settings.LongestRetry,
                UseJitter = false,
                ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception is { } error && error is not OperationCanceledException
                    && args.Context.Properties.GetValue(Announcer.KeepTrying, static () => false)()),
                OnRetry = args =>
                {
                    context.ServiceProvider.GetRequiredService<Announcer>().OnRetry(args.Context.Properties.GetValue(Announcer.JobId, "?"),
                        args.Context.Properties.GetValue(Announcer.Step, "announcement"), args.Outcome.Exception, args.RetryDelay);
                    return ValueTask.CompletedTask;
                },
            });
        });
        return services;
    }
}
