using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MimeKit;
using System.Diagnostics.Metrics;
using Notifications.Core.Telemetry;
using Polly;
using Polly.CircuitBreaker;
using Polly.Registry;
using Polly.Retry;
using Microsoft.Extensions.DependencyInjection;

namespace Notifications.Worker.Sending;

/// <summary>
/// The relay as the consumer sees it: the connection pool behind a Polly pipeline — a circuit breaker
/// that opens when the relay itself is down, and one immediate retry for a pooled connection gone stale.
/// </summary>
public sealed class SmtpRelay
{
    /// <summary>The resilience pipeline the relay is sent to through, registered by <see cref="AddRelayPipeline"/>.</summary>
    public const string Pipeline = "smtp-relay";

    private readonly SmtpClientPool _pool;
    private readonly ResiliencePipeline _pipeline;
    private readonly CircuitBreakerStateProvider _circuit;
    private readonly string _name;

    /// <summary>The relay as the message log names it: host:port.</summary>
    public string Describe() => _name;

    public SmtpRelay(SmtpClientPool pool, ResiliencePipelineProvider<string> pipelines, RelayCircuit circuit, IOptions<SmtpOptions> options,
        NotificationsTelemetry telemetry)
    {
        _pool = pool;
        _circuit = circuit.State;
        telemetry.ObserveGauge("notifications.smtp.circuit.state", "{state}", "The relay's circuit: 0 closed, 1 open, 2 half-open, 3 isolated",
            () => [new Measurement<long>((long)_circuit.CircuitState)]);
        BreakDuration = options.Value.CircuitBreakDuration;
        _name = $"{options.Value.Host}:{options.Value.Port}";
        _pipeline = pipelines.GetPipeline(Pipeline);
    }

    /// <summary>
    /// The relay's pipeline, on the host's <see cref="TimeProvider"/>: a circuit breaker (its numbers are <c>Smtp:Circuit*</c>)
    /// that opens when the relay itself is down, and one immediate retry for a pooled connection gone stale.
    /// </summary>
    public static IServiceCollection AddRelayPipeline(IServiceCollection services)
    {
        services.AddSingleton<RelayCircuit>();
        services.AddResiliencePipeline(Pipeline, (pipeline, context) =>
        {
            var options = context.ServiceProvider.GetRequiredService<IOptions<SmtpOptions>>().Value;
            var logger = context.ServiceProvider.GetRequiredService<ILogger<SmtpRelay>>();
            pipeline
                .AddCircuitBreaker(new CircuitBreakerStrategyOptions
                {
                    ShouldHandle = new PredicateBuilder().Handle<Exception>(SmtpFailure.IsRelayDown),
                    FailureRatio = options.CircuitFailureRatio,
                    MinimumThroughput = options.CircuitMinimumThroughput,
                    SamplingDuration = options.CircuitSamplingDuration,
                    BreakDuration = options.CircuitBreakDuration,
                    StateProvider = context.ServiceProvider.GetRequiredService<RelayCircuit>().State,
                    OnOpened = args =>
                    {
                        logger.LogWarning("SMTP relay looks down ({Reason}); sends paused for {BreakDuration}, no attempts are spent meanwhile",
                            args.Outcome.Exception is { } ex ? SmtpFailure.Describe(ex) : "unknown", args.BreakDuration);
                        return default;
                    },
                    OnClosed = _ =>
                    {
                        logger.LogInformation("SMTP relay is back; sending resumed");
                        return default;
                    },
                })
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
                });
        });
        return services;
    }

    public TimeSpan BreakDuration { get; }

    /// <summary>Open: the relay is considered down and sends fail fast with <see cref="BrokenCircuitException"/>.</summary>
    public CircuitState Circuit => _circuit.CircuitState;

    /// <summary>Sends one message; returns the relay's reply and the recipients it refused.</summary>
    /// <param name="sender">the envelope sender (MAIL FROM); null: the message's Sender or first From.</param>
    /// <param name="envelope">the recipients to give the relay; null: every recipient of the message.</param>
    /// <exception cref="BrokenCircuitException">the relay is down: not this mail's failure.</exception>
    public ValueTask<SendResult> SendAsync(MimeMessage message, MailboxAddress? sender, IReadOnlyList<MailboxAddress>? envelope,
        CancellationToken cancellationToken) =>
        _pipeline.ExecuteAsync(static async (state, token) => await state.Pool.SendAsync(state.Message, state.Sender, state.Envelope, token),
            (Pool: _pool, Message: message, Sender: sender, Envelope: envelope), cancellationToken);

    /// <summary>
    /// Whether a failed send was the relay's outage rather than this mail's failure: the circuit refused it,
    /// or the relay looked down and the circuit is open now (this failure opened it, or the half-open probe failed).
    /// A relay-down failure that leaves the circuit closed is one mail's bad luck and costs it an attempt.
    /// </summary>
    public bool IsOutage(Exception ex) =>
        ex is BrokenCircuitException || (SmtpFailure.IsRelayDown(ex) && _circuit.CircuitState != CircuitState.Closed);

    public Task<bool> ProbeAsync(CancellationToken cancellationToken) => _pool.ProbeAsync(cancellationToken);
}
