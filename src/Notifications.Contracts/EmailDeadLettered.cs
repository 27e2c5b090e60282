namespace Notifications.Contracts;

/// <summary>The job is in the dead-letter queue. <paramref name="Kind"/>: transient, permanent, poison or delivery-limit.</summary>
public sealed record EmailDeadLettered(string JobId, string Kind, string LastError, int Attempts, DateTimeOffset At);
