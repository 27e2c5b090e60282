namespace Notifications.Contracts;

/// <summary>
/// A recipient reported the mail as spam: a feedback report (RFC 5965 ARF) came back from their mailbox provider. The
/// address is suppressed for the job's client.
/// </summary>
/// <param name="Recipient">the complainant, when the provider named them (many redact it).</param>
/// <param name="FeedbackType">abuse, fraud, virus, other…</param>
/// <param name="Test">true for a test client's job (nothing was mailed); absent (null) for live mail.</param>
public sealed record EmailComplained(string JobId, string? Recipient, string FeedbackType, DateTimeOffset ComplainedAt, string? Client = null, bool? Test = null);
