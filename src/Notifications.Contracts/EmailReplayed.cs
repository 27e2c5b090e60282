namespace Notifications.Contracts;

/// <summary>An operator put a dead-lettered job back into the work queue (<c>dlq replay</c>).</summary>
/// <param name="Test">true for a test client's job (nothing was mailed); absent (null) for live mail.</param>
public sealed record EmailReplayed(string JobId, int Replays, DateTimeOffset At, string? Client = null, bool? Test = null);
