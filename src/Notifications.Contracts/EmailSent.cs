namespace Notifications.Contracts;

/// <summary>The relay accepted the job's mail.</summary>
/// <param name="JobId">the id the API answered with.</param>
/// <param name="Recipients">to and cc (never bcc).</param>
/// <param name="RelayReply">the relay's final reply.</param>
/// <param name="Attempts">deliveries it took, this one included.</param>
/// <param name="SentAt">when the relay accepted it.</param>
/// <param name="Client">the client that sent it, when the API knows clients.</param>
/// <param name="Replays">how often it was replayed from the DLQ before (<c>x-replays</c>).</param>
/// <param name="Rejected">recipients the relay refused for good at RCPT TO, with its reply; the others got the mail (to and cc only).</param>
/// <param name="Suppressed">recipients left out because they are on the suppression list (to and cc only).</param>
/// <param name="Deferred">recipients the relay refused for now: a follow-up job retries them (to and cc only).</param>
/// <param name="Test">true for a test client's job (nothing was mailed); absent (null) for live mail.</param>
public sealed record EmailSent(string JobId, IReadOnlyList<string> Recipients, string RelayReply, int Attempts, DateTimeOffset SentAt,
    int Replays = 0,
    string? Client = null,
    IReadOnlyList<RecipientRefusal>? Rejected = null,
    IReadOnlyList<string>? Suppressed = null,
    IReadOnlyList<RecipientRefusal>? Deferred = null,
    bool? Test = null);

/// <summary>One recipient the relay refused, and its reply.</summary>
/// <param name="FollowUpJobId">for a deferred recipient: the job that retries it.</param>
public sealed record RecipientRefusal(string Address, string Reply, string? FollowUpJobId = null);
