using Microsoft.Extensions.Logging;
using MimeKit;
using Polly;
using Polly.Retry;

namespace Notifications.Worker.Sending;

/// <summary>The relay as the consumer sees it: the connection pool behind a Polly pipeline.</summary>
public sealed class SmtpRelay
{
    private readonly SmtpClientPool _pool;
    private readonly ResiliencePipeline _pipeline;

    public SmtpRelay(SmtpClientPool pool, ILogger<SmtpRelay> logger)
    {
        _pool = pool;
        _pipeline = new ResiliencePipelineBuilder()
            // A relay closes idle sessions; that is the pool's staleness, not the job's failure, so it costs no attempt.
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<StaleSmtpConnectionException>(),
                MaxRetryAttempts = 1,
                Delay = TimeSpan.Zero,
                OnRetry = args =>
                {
                    logger.LogDebug("Pooled SMTP connection was stale ({Reason}); sending on a fresh one",
                        args.Outcome.Exception?.InnerException?.Message);
                    return default;
                },
            })
            .Build();
    }

    /// <summary>Sends one message; returns the relay's reply.</summary>
    public ValueTask<string> SendAsync(MimeMessage message, CancellationToken cancellationToken) =>
        _pipeline.ExecuteAsync(static async (state, token) => await state.Pool.SendAsync(state.Message, token),
            (Pool: _pool, Message: message), cancellationToken);
}
