namespace Notifications.Contracts;

/// <summary>The relay accepted the job's mail.</summary>
/// <param name="JobId">the id the API answered with.</param>
/// <param name="Recipients">to and cc (never bcc).</param>
/// <param name="RelayReply">the relay's final reply.</param>
/// <param name="Attempts">deliveries it took, this one included.</param>
/// <param name="SentAt">when the relay accepted it.</param>
/// <param name="Client">the client that sent it, when the API knows clients.</param>
/// <param name="Replays">how often it was replayed from the DLQ before (<c>x-replays</c>).</param>
public sealed record EmailSent(string JobId, IReadOnlyList<string> Recipients, string RelayReply, int Attempts, DateTimeOffset SentAt,
    int Replays = 0,
    string? Client = null);
