namespace Notifications.Core.Contract;

/// <summary>
/// A file sent with the mail, as the caller gives it and the job carries it: <c>content</c> in base64. With a
/// <c>contentId</c> it is inline (an image the html names as <c>cid:&lt;contentId&gt;</c>), else an attachment.
/// </summary>
public sealed record EmailAttachment(string? Filename, string? ContentType, string? Content, string? ContentId = null);
