namespace Notifications.Contracts;

/// <summary>A transient failure: the job waits in a retry queue and is tried again after <paramref name="Delay"/>.</summary>
public sealed record EmailRetryScheduled(string JobId, int Attempt, TimeSpan Delay, string Error, DateTimeOffset At, int Replays = 0, string? Client = null);
