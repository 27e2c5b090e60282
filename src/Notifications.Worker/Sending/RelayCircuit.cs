using Polly.CircuitBreaker;

namespace Notifications.Worker.Sending;

/// <summary>The relay circuit's state, shared by the pipeline that keeps it and the code that asks whether the relay is down.</summary>
public sealed class RelayCircuit
{
    public CircuitBreakerStateProvider State { get; } = new();
}
