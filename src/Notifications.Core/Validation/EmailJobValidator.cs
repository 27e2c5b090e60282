using Microsoft.Extensions.Options;
using Notifications.Core.Clients;
using Notifications.Core.Contract;

namespace Notifications.Core.Validation;

/// <summary>
/// The rules of a job, shared by the API (answer 400) and the worker (dead-letter as poison), so
/// a hand-published message is held to the same rules as a request.
/// </summary>
public sealed partial class EmailJobValidator(IOptions<EmailOptions> options, ClientRegistry clients,
    IOptions<Unsubscribing.UnsubscribeOptions> unsubscribe)
{
    public const int MaxSubjectLength = 998;
    public const int MaxCustomHeaders = 50;
    public const int MaxMetadataEntries = 50;

    // Headers the service writes itself; a request must not set or override them.
    private static readonly HashSet<string> ReservedHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "From", "To", "Cc", "Bcc", "Reply-To", "Sender", "Subject", "Date", "Message-Id", "List-Id", "List-Unsubscribe", "List-Unsubscribe-Post",
        "Return-Path", "Received", "MIME-Version", "Content-Type", "Content-Transfer-Encoding",
        "Content-Disposition", "Content-Id", "Resent-From", "Resent-To", "Resent-Cc", "Resent-Bcc",
        "Resent-Date", "Resent-Message-Id", "Resent-Sender", "DKIM-Signature", "ARC-Seal", "ARC-Message-Signature",
        "ARC-Authentication-Results", "Authentication-Results", "Disposition-Notification-To", "Return-Receipt-To",
    };

    private readonly EmailOptions _options = options.Value;
    private readonly AttachmentPolicy _attachments = new(options.Value);

    // Parsed once: every request is checked against them.
    private readonly HashSet<string> _allowedSenders = new(
        new[] { options.Value.DefaultFrom }.Concat(options.Value.AllowedFrom)
            .Select(sender => EmailAddresses.TryParseMailbox(sender, out var mailbox, out _) ? mailbox!.Address : null)
            .OfType<string>(),
        StringComparer.OrdinalIgnoreCase);

    /// <summary>Errors by field; empty when the mail is valid. The same rules for a request and for a job read from the queue.</summary>
    /// <param name="mail">the request or job.</param>
    /// <param name="client">whose it is: its senders apply; null (anonymous) means <c>Email:AllowedFrom</c>.</param>
    public Dictionary<string, string[]> Validate(IEmailFields mail, string? client)
    {
        var errors = new Errors();
        ValidateRecipients(mail, errors);
        ValidateSender(mail, client, errors);
        if (mail is EmailJob { Raw: not null } submitted)
            ValidateSubmitted(submitted, errors);
        else
            ValidateContent(mail, errors);
        ValidateHeaders(mail, errors);
        ValidateMetadata(mail, errors);
        ValidateAttachments(mail, errors);
        if (!Topology.Lanes.TryParse(mail.Priority, out _))
            errors.Add("priority", "priority is \"high\" or \"normal\"");
        ValidateList(mail, errors);
        return errors.ToDictionary();
    }

    /// <summary>A list mail goes to one person: one <c>to</c>, no cc or bcc (its unsubscribe link names that one address).</summary>
    private void ValidateList(IEmailFields mail, Errors errors)
    {
        if (mail.List is null)
            return;
        if (!unsubscribe.Value.Enabled)
            errors.Add("list", "list mail needs a one-click unsubscribe link, and Unsubscribe:BaseUrl is not set");
        if (!IsListName(mail.List))
            errors.Add("list", "a list name is a lower-case letter or digit, then up to 63 letters, digits or '-'");
        if (mail.To is not { Count: 1 } || mail.Cc is { Count: > 0 } || mail.Bcc is { Count: > 0 })
            errors.Add("list", "a list mail has exactly one to and no cc or bcc; send many with POST /api/send-email/batch");
    }

    /// <summary>A client's list name: a lower-case letter or digit, then up to 63 letters, digits or '-'.</summary>
    public static bool IsListName(string list) => ListName().IsMatch(list);

    [System.Text.RegularExpressions.GeneratedRegex("^[a-z0-9][a-z0-9-]{0,63}$")]
    private static partial System.Text.RegularExpressions.Regex ListName();

    private void ValidateRecipients(IEmailFields request, Errors errors)
    {
        var count = 0;
        foreach (var (field, list) in new[] { ("to", request.To), ("cc", request.Cc), ("bcc", request.Bcc) })
        {
            if (list is null)
                continue;
            for (var i = 0; i < list.Count; i++)
            {
                count++;
                if (!EmailAddresses.TryParseMailbox(list[i], out _, out var error))
                    errors.Add($"{field}[{i}]", error!);
            }
        }
        if (count == 0)
            errors.Add("to", "at least one recipient is required in to, cc or bcc");
        else if (count > _options.MaxRecipients)
            errors.Add("to", $"{count} recipients is more than the {_options.MaxRecipients} allowed");
    }

    private void ValidateSender(IEmailFields request, string? clientName, Errors errors)
    {
        var client = clients.Find(clientName);
        if (clientName is not null && client is null)
            errors.Add("client", $"'{clientName}' is not a configured client");
        if (request.From is not null)
        {
            if (!EmailAddresses.TryParseMailbox(request.From, out var from, out var error))
                errors.Add("from", error!);
            else if (client is not null && !client.MaySendAs(from!.Address))
                errors.Add("from", $"'{from.Address}' is not a sender of client '{client.Name}' (Clients:{client.Name}:AllowedFrom)");
            else if (clientName is null && !IsAllowedSender(from!.Address))
                errors.Add("from", $"'{from.Address}' is not an allowed sender (Email:AllowedFrom)");
        }
        if (request.ReplyTo is not null && !EmailAddresses.TryParseMailbox(request.ReplyTo, out _, out var replyError))
            errors.Add("replyTo", replyError!);
    }

    private static void ValidateContent(IEmailFields request, Errors errors)
    {
        if (string.IsNullOrWhiteSpace(request.Subject))
            errors.Add("subject", "subject is required");
        else if (request.Subject.AsSpan().IndexOfAny('\r', '\n') >= 0)
            errors.Add("subject", "subject must be one line (no CR or LF)");
        else if (ControlCharacters.In(request.Subject))
            errors.Add("subject", "subject must not contain control characters (NUL, BEL, ESC, …)");
        else if (request.Subject.Length > MaxSubjectLength)
            errors.Add("subject", $"subject is longer than {MaxSubjectLength} characters");

        if (string.IsNullOrEmpty(request.Text) && string.IsNullOrEmpty(request.Html))
            errors.Add("text", "at least one of text or html is required");
    }

    /// <summary>
    /// A job submitted by SMTP carries its content as the message itself: no fields that would build another one, a subject
    /// that may be empty (a mail without one is still a mail) but is one line, and a message within the size limit.
    /// </summary>
    private static void ValidateSubmitted(EmailJob job, Errors errors)
    {
        if (job.Text is not null || job.Html is not null || job.Attachments is not null || job.Headers is not null || job.ReplyTo is not null)
            errors.Add("raw", "a submitted message carries its content itself: no text, html, attachments, headers or replyTo beside it");
        if (job.Subject.AsSpan().IndexOfAny('\r', '\n') >= 0 || ControlCharacters.In(job.Subject))
            errors.Add("subject", "subject must be one line without control characters");
        if (job.Raw!.Length == 0)
            errors.Add("raw", "the submitted message is empty");
        else if (job.Raw.Length > Submission.SubmissionOptions.MaxMessageBytesCeiling)
            errors.Add("raw", $"the submitted message is {job.Raw.Length} bytes, more than the {Submission.SubmissionOptions.MaxMessageBytesCeiling} any submission may be");
    }

    private static void ValidateHeaders(IEmailFields request, Errors errors)
    {
        if (request.Headers is null)
            return;
        if (request.Headers.Count > MaxCustomHeaders)
            errors.Add("headers", $"at most {MaxCustomHeaders} custom headers");
        foreach (var (name, value) in request.Headers)
        {
            var field = $"headers.{name}";
            if (!IsValidHeaderName(name))
                errors.Add(field, "a header name is 1 to 76 printable ASCII characters without ':' or spaces");
            else if (ReservedHeaders.Contains(name) || name.StartsWith("Content-", StringComparison.OrdinalIgnoreCase))
                errors.Add(field, $"'{name}' is set by the service and cannot be given");
            if (value is null)
                errors.Add(field, "header value must not be null");
            else if (value.AsSpan().IndexOfAny('\r', '\n') >= 0)
                errors.Add(field, "header value must not contain CR or LF");
            else if (ControlCharacters.In(value))
                errors.Add(field, "header value must not contain control characters (NUL, BEL, ESC, …)");
        }
    }

    public const int MaxAttachments = 20;

    private void ValidateAttachments(IEmailFields request, Errors errors)
    {
        if (request.Attachments is not { } files)
            return;
        if (files.Count > MaxAttachments)
            errors.Add("attachments", $"at most {MaxAttachments} attachments");
        var contentIds = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < files.Count; i++)
        {
            var at = $"attachments[{i}]";
            if (files[i] is not { } file)
            {
                errors.Add(at, "an attachment is an object {filename, contentType, content, contentId?}");
                continue;
            }
            if (string.IsNullOrWhiteSpace(file.Filename) || file.Filename.Length > 255)
                errors.Add($"{at}.filename", "filename is required, at most 255 characters");
            else if (file.Filename.AsSpan().IndexOfAny('/', '\\') >= 0 || file.Filename is "." or ".." || ControlCharacters.In(file.Filename)
                     || file.Filename.AsSpan().IndexOfAny('\r', '\n') >= 0)
                errors.Add($"{at}.filename", "filename must be a plain name: no path separators, CR/LF or control characters");
            else if (!string.IsNullOrWhiteSpace(file.ContentType) && _attachments.Refusal(file.Filename, file.ContentType) is { } refusal)
                errors.Add($"{at}.{refusal.Field}", refusal.Reason);
            if (string.IsNullOrWhiteSpace(file.ContentType) || file.ContentType.AsSpan().IndexOfAny('\r', '\n') >= 0
                || !MimeKit.ContentType.TryParse(file.ContentType, out var type) || string.IsNullOrEmpty(type.MediaSubtype))
                errors.Add($"{at}.contentType", "contentType must be a media type like application/pdf");
            if (string.IsNullOrEmpty(file.Content))
                errors.Add($"{at}.content", "content is required: the file in base64");
            else if (!IsBase64(file.Content))
                errors.Add($"{at}.content", "content must be base64");
            if (file.ContentId is { } id && (id.Length is 0 or > 200 || id.Any(c => c is '<' or '>' or ' ' or '\r' or '\n' || char.IsControl(c))
                || !contentIds.Add(id)))
                errors.Add($"{at}.contentId", "contentId is 1 to 200 characters without <, >, spaces or line breaks, unique in the mail");
        }
    }

    private static bool IsBase64(string text)
    {
        var bytes = new byte[text.Length * 3 / 4 + 3];
        return Convert.TryFromBase64String(text, bytes, out _);
    }

    private static void ValidateMetadata(IEmailFields request, Errors errors)
    {
        if (request.Metadata is null)
            return;
        if (request.Metadata.Count > MaxMetadataEntries)
            errors.Add("metadata", $"at most {MaxMetadataEntries} metadata entries");
        foreach (var (key, value) in request.Metadata)
            if (value is null)
                errors.Add($"metadata.{key}", "metadata value must not be null");
    }

    public bool IsAllowedSender(string address) => _allowedSenders.Contains(address);

    private static bool IsValidHeaderName(string name) =>
        name.Length is > 0 and <= 76 && name.All(c => c is > ' ' and <= '~' and not ':');

    private sealed class Errors
    {
        private readonly Dictionary<string, List<string>> _byField = new(StringComparer.Ordinal);

        public void Add(string field, string message)
        {
            if (!_byField.TryGetValue(field, out var list))
                _byField[field] = list = [];
            list.Add(message);
        }

        public Dictionary<string, string[]> ToDictionary() =>
            _byField.ToDictionary(kv => kv.Key, kv => kv.Value.ToArray(), StringComparer.Ordinal);
    }
}
