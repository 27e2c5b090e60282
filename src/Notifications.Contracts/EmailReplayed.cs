namespace Notifications.Contracts;

/// <summary>An operator put a dead-lettered job back into the work queue (<c>dlq replay</c>).</summary>
public sealed record EmailReplayed(string JobId, int Replays, DateTimeOffset At, string? Client = null);
