using MassTransit;
using Microsoft.Extensions.Options;
using Notifications.Core.Broker;

namespace Notifications.Core.Events;

/// <summary>
/// Publishes outcome events through MassTransit and returns once the broker confirmed them, so a
/// caller acks a job only after its event is safe (at least once: an event may come twice, never not at all).
/// </summary>
public sealed class OutcomeEvents(IBus bus, IOptions<RabbitMqOptions> options) : IOutcomeEvents
{
    private readonly TimeSpan _timeout = options.Value.PublishTimeout;

    /// <exception cref="PublishFailedException">the broker did not confirm the event.</exception>
    public async Task PublishAsync<T>(T outcome, CancellationToken cancellationToken) where T : class
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_timeout);
        try
        {
            await bus.Publish(outcome, timeout.Token);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // Whatever MassTransit threw (nack, connection gone, no confirm in time), the event is not safe.
            throw new PublishFailedException($"{typeof(T).Name} event not confirmed: {ex.GetBaseException().Message}", mayHaveArrived: true, ex);
        }
    }
}
