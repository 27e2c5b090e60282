namespace Notifications.Core.Store;

/// <summary>
/// Each client's sending reputation: how many recipients it sent to since its window began, the hard bounces and
/// complaints among its last ones, and whether it is paused. In the job store, so every API and worker instance sees the
/// same and a pause survives restarts.
/// </summary>
public interface IReputation
{
    /// <summary>
    /// Counts <paramref name="sent"/> more recipients and the <paramref name="events"/> (each counted once by its key,
    /// however often it is recorded), then answers the client's state over its last <paramref name="window"/> recipients.
    /// <c>sent</c> 0 and no events only reads it.
    /// </summary>
    Task<ReputationState> RecordReputationAsync(string client, int sent, IReadOnlyCollection<ReputationEvent> events, int window,
        CancellationToken cancellationToken);

    /// <returns>true when this call paused it; false when it was paused already.</returns>
    Task<bool> PauseClientAsync(string client, string reason, DateTimeOffset at, CancellationToken cancellationToken);

    /// <summary>Ends a pause and starts the client's window afresh.</summary>
    /// <returns>whether it was paused.</returns>
    Task<bool> ResumeClientAsync(string client, CancellationToken cancellationToken);
}

/// <summary>A hard bounce or complaint, keyed so that a report read twice counts once; a complaint's key starts with "c|".</summary>
public sealed record ReputationEvent(string Key, bool Complaint)
{
    public static ReputationEvent Bounce(string jobId, string address) => new($"b|{jobId}|{address.ToLowerInvariant()}", false);

    public static ReputationEvent ComplaintOf(string jobId, string? address) => new($"c|{jobId}|{address?.ToLowerInvariant()}", true);
}

/// <param name="Sent">recipients counted since the window began (all time, or since the last resume).</param>
/// <param name="Window">how many of the last recipients the rates are over.</param>
public sealed record ReputationState(string Client, long Sent, int Window, int Bounces, int Complaints, DateTimeOffset? PausedAt, string? PausedReason)
{
    /// <summary>Recipients the rates are over: the window, or fewer while the client has not sent that many.</summary>
    public long Judged => Math.Min(Sent, Window);

    public double BounceRate => Judged == 0 ? 0 : (double)Bounces / Judged;

    public double ComplaintRate => Judged == 0 ? 0 : (double)Complaints / Judged;

    public bool Paused => PausedAt is not null;
}
