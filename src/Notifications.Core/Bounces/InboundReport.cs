namespace Notifications.Core.Bounces;

/// <summary>What a message that came back to the return-path domain says, as <see cref="ReportReader"/> reads it.</summary>
/// <param name="Kind">a delivery report, a complaint, an auto-reply, or nothing we can read.</param>
/// <param name="Recipients">per recipient of a delivery report: what became of the mail; for a complaint, the complainant when known.</param>
/// <param name="EnvelopeId">the DSN's <c>Original-Envelope-Id</c> (our job id, when the relay passed ENVID on).</param>
/// <param name="ReturnedMessageId">the <c>Message-ID</c> of the returned message or its headers.</param>
/// <param name="FeedbackType">a complaint's <c>Feedback-Type</c> (abuse, fraud, …).</param>
/// <param name="Why">for <see cref="ReportKind.Unreadable"/>: what was missing, one line.</param>
/// <param name="ReturnedTokens">the returned mail's own return paths (its <c>Return-Path</c> and
/// <see cref="InboundHeaders.ReportToken"/>): claims only, until <see cref="ReturnPath.TryReadJobId"/> verifies one.</param>
public sealed record InboundReport(
    ReportKind Kind,
    IReadOnlyList<RecipientReport> Recipients,
    string? EnvelopeId = null,
    string? ReturnedMessageId = null,
    string? FeedbackType = null,
    string? ReportingMta = null,
    string? Why = null,
    IReadOnlyList<string>? ReturnedTokens = null)
{
    public static InboundReport Unreadable(string why) => new(ReportKind.Unreadable, [], Why: why);
}

public enum ReportKind
{
    DeliveryStatus,
    Complaint,
    AutoReply,
    Unreadable,
}

/// <summary>One recipient's line of a report.</summary>
/// <param name="Address">the final (or original) recipient, bare.</param>
/// <param name="Action">failed, delayed, delivered, relayed, expanded (RFC 3464), or complained.</param>
/// <param name="Status">the enhanced status code, e.g. 5.1.1.</param>
/// <param name="Diagnostic">the remote server's reply, one line, when given.</param>
public sealed record RecipientReport(string Address, string Action, string? Status, string? Diagnostic)
{
    /// <summary>Failed for good: a hard bounce (suppressed).</summary>
    public bool IsHardBounce => Action == "failed" && Status?.StartsWith('5') == true;

    /// <summary>Failed for now: a soft bounce (recorded on the job, not suppressed).</summary>
    public bool IsSoftBounce => Action == "failed" && Status?.StartsWith('4') == true;

    public bool IsDelayed => Action == "delayed";

    /// <summary>Status and diagnostic in one line, as a suppression's reason and the job's record say it.</summary>
    public string Describe() => Diagnostic is { Length: > 0 } diagnostic ? $"{Status} {diagnostic}" : Status ?? Action;
}
