namespace Notifications.Contracts;

/// <summary>A transient failure: the job waits in a retry queue and is tried again after <paramref name="Delay"/>.</summary>
/// <param name="Test">true for a test client's job (nothing was mailed); absent (null) for live mail.</param>
public sealed record EmailRetryScheduled(string JobId, int Attempt, TimeSpan Delay, string Error, DateTimeOffset At, int Replays = 0, string? Client = null, bool? Test = null);
