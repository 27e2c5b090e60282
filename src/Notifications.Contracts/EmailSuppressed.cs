namespace Notifications.Contracts;

/// <summary>Every recipient of the job is on the suppression list: nothing was sent, and nothing is retried.</summary>
/// <param name="JobId">the id the API answered with.</param>
/// <param name="Suppressed">its recipients, all suppressed (to and cc; bcc ones are counted, never named).</param>
/// <param name="SuppressedAt">when the worker found it.</param>
/// <param name="Replays">how often it was replayed from the DLQ before (<c>x-replays</c>).</param>
/// <param name="Client">the client that sent it, when the API knows clients.</param>
/// <param name="Test">true for a test client's job (nothing was mailed); absent (null) for live mail.</param>
public sealed record EmailSuppressed(string JobId, IReadOnlyList<string> Suppressed, DateTimeOffset SuppressedAt, int Replays = 0, string? Client = null, bool? Test = null);
