using Notifications.Core.Contract;

namespace Notifications.Worker.Retrying;

/// <summary>Where a failed job goes next: a retry queue after a delay, or the DLQ.</summary>
public sealed record RetryDecision(string RoutingKey, TimeSpan? Delay, FailureKind Kind, int Attempts)
{
    public bool IsDeadLetter => Delay is null;
}
