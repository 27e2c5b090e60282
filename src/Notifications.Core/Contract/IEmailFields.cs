namespace Notifications.Core.Contract;

/// <summary>
/// The fields of a mail as a caller gives them and a job carries them: what <c>EmailJobValidator</c>
/// checks, for the API's request and for a job read from the queue alike.
/// </summary>
public interface IEmailFields
{
    IReadOnlyList<string?>? To { get; }
    IReadOnlyList<string?>? Cc { get; }
    IReadOnlyList<string?>? Bcc { get; }
    string? From { get; }
    string? ReplyTo { get; }
    string? Subject { get; }
    string? Text { get; }
    string? Html { get; }
    IReadOnlyDictionary<string, string?>? Headers { get; }
    IReadOnlyDictionary<string, string?>? Metadata { get; }

    /// <summary>"high" or "normal" (absent): the lane the job travels in.</summary>
    string? Priority { get; }

    /// <summary>The client's mailing list the mail belongs to (one-click unsubscribe); absent for transactional mail.</summary>
    string? List { get; }

    IReadOnlyList<EmailAttachment?>? Attachments { get; }
}
