namespace Notifications.Core.Store;

/// <summary>The last known state of a job, as <c>GET /api/emails/{id}</c> answers it.</summary>
public sealed record JobStatus(
    string JobId,
    string Status,
    DateTimeOffset At,
    int? Attempt = null,
    string? Kind = null,
    string? Error = null);
