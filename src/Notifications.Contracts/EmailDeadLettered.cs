namespace Notifications.Contracts;

/// <summary>The job is in the dead-letter queue. <paramref name="Kind"/>: transient, permanent, poison or delivery-limit.</summary>
/// <param name="Replays">how often it was replayed from the DLQ before (<c>x-replays</c>).</param>
/// <param name="Test">true for a test client's job (nothing was mailed); absent (null) for live mail.</param>
public sealed record EmailDeadLettered(string JobId, string Kind, string LastError, int Attempts, DateTimeOffset At, int Replays = 0, string? Client = null, bool? Test = null);
