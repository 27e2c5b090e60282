using System.Text.RegularExpressions;
using MimeKit;
using Notifications.Core.Contract;

namespace Notifications.Core.Bounces;

/// <summary>
/// Reads what came back: a delivery status notification (RFC 3464, <c>multipart/report; report-type=delivery-status</c>),
/// a complaint (RFC 5965 ARF, <c>report-type=feedback-report</c>), a plain-text bounce of the older kind (qmail, a bare
/// Exim) or an auto-reply. With MimeKit's report classes; it never throws on what a stranger sends.
/// </summary>
public static partial class ReportReader
{
    private const int MaxRecipients = 1000;

    public static InboundReport Read(byte[] raw)
    {
        MimeMessage message;
        try
        {
            using var stream = new MemoryStream(raw, writable: false);
            message = MimeMessage.Load(stream);
        }
        catch (Exception ex) when (ex is FormatException or ParseException)
        {
            return InboundReport.Unreadable("not a mail message: " + ex.Message);
        }
        return Read(message);
    }

    public static InboundReport Read(MimeMessage message)
    {
        var parts = PartsOf(message.Body).ToList();
        if (parts.OfType<MessageDeliveryStatus>().FirstOrDefault() is { } status)
            return ReadDeliveryStatus(status, parts);
        if (parts.OfType<MessageFeedbackReport>().FirstOrDefault() is { } feedback)
            return ReadComplaint(feedback, parts);
        if (LooksLikeBounce(message) && ReadPlainBounce(parts) is { Count: > 0 } plain)
            return new InboundReport(ReportKind.DeliveryStatus, plain, ReturnedMessageId: ReturnedMessageId(parts), ReturnedTokens: ReturnedTokens(parts));
        if (IsAutoReply(message))
            return new InboundReport(ReportKind.AutoReply, []);
        return InboundReport.Unreadable(message.Body is MultipartReport report
            ? $"a multipart/report of type '{report.ReportType}' without a readable report part"
            : $"neither a delivery report (RFC 3464) nor a complaint (RFC 5965): {message.Body?.ContentType.MimeType ?? "no body"}");
    }

    /// <summary>The leaves of the body, in order, without going into an attached message (the returned mail has its own).</summary>
    private static IEnumerable<MimeEntity> PartsOf(MimeEntity? entity)
    {
        switch (entity)
        {
            case null:
                yield break;
            case Multipart multipart:
                foreach (var child in multipart)
                foreach (var part in PartsOf(child))
                    yield return part;
                break;
            default:
                yield return entity;
                break;
        }
    }

    private static InboundReport ReadDeliveryStatus(MessageDeliveryStatus status, List<MimeEntity> parts)
    {
        var groups = status.StatusGroups;
        if (groups.Count == 0)
            return InboundReport.Unreadable("a delivery-status part without fields");
        var perMessage = groups[0];
        var recipients = new List<RecipientReport>();
        for (var i = 1; i < groups.Count && recipients.Count < MaxRecipients; i++)
        {
            var fields = groups[i];
            var address = TypedValue(fields["Final-Recipient"]) ?? TypedValue(fields["Original-Recipient"]);
            var action = fields["Action"]?.Trim().ToLowerInvariant();
            if (string.IsNullOrEmpty(address) || string.IsNullOrEmpty(action))
                continue;
            var diagnostic = TypedValue(fields["Diagnostic-Code"]);
            var code = StatusCode(fields["Status"]) ?? StatusCode(diagnostic) ?? (action == "failed" ? CodeOfReply(diagnostic) : null);
            recipients.Add(new RecipientReport(Bare(address), action, code, diagnostic is null ? null : JobCodec.OneLine(diagnostic)));
        }
        if (recipients.Count == 0)
            return InboundReport.Unreadable("a delivery-status report naming no recipient with an action");
        return new InboundReport(ReportKind.DeliveryStatus, recipients, TypedValue(perMessage["Original-Envelope-Id"])?.Trim(),
            ReturnedMessageId(parts), ReportingMta: TypedValue(perMessage["Reporting-MTA"]), ReturnedTokens: ReturnedTokens(parts));
    }

    private static InboundReport ReadComplaint(MessageFeedbackReport feedback, List<MimeEntity> parts)
    {
        var fields = feedback.Fields;
        var type = fields["Feedback-Type"]?.Trim().ToLowerInvariant() ?? "abuse";
        // The complainant: Original-Rcpt-To when the provider gives it; many redact it (RFC 6590), and then the returned
        // message's single To is the best witness; with neither, the complaint still counts against the client.
        var complainant = fields["Original-Rcpt-To"] is { Length: > 0 } rcpt ? Bare(rcpt)
            : Returned(parts)?.To.Mailboxes.ToList() is [var only] ? only.Address : null;
        return new InboundReport(ReportKind.Complaint, complainant is null ? [] : [new RecipientReport(complainant, "complained", null, type)],
            fields["Original-Envelope-Id"]?.Trim(), ReturnedMessageId(parts), type, fields["Reporting-MTA"] is { } mta ? TypedValue(mta) : null,
            ReturnedTokens: ReturnedTokens(parts));
    }

    private static MimeMessage? Returned(List<MimeEntity> parts) => parts.OfType<MessagePart>().Select(p => p.Message).FirstOrDefault(m => m is not null);

    /// <summary>The returned message's Message-ID: from an attached message or its headers, else from a text part quoting them.</summary>
    private static string? ReturnedMessageId(List<MimeEntity> parts)
    {
        if (Returned(parts)?.MessageId is { Length: > 0 } id)
            return id;
        foreach (var text in parts.OfType<TextPart>().Where(p => !p.IsHtml))
            if (QuotedMessageId().Match(text.Text ?? "") is { Success: true } quoted)
                return quoted.Groups[1].Value;
        return null;
    }

    /// <summary>
    /// The return paths the returned mail says it had: its <c>Return-Path</c> (added where it was delivered) and the token
    /// header the worker put on it, from an attached message or its headers, else from a text part quoting them. At most
    /// a few: each is only a claim until its MAC verifies.
    /// </summary>
    private static List<string> ReturnedTokens(List<MimeEntity> parts)
    {
        var tokens = new List<string>();
        if (Returned(parts) is { } returned)
            foreach (var header in returned.Headers)
                if (tokens.Count < MaxTokens && (header.Field.Equals("Return-Path", StringComparison.OrdinalIgnoreCase)
                    || header.Field.Equals(InboundHeaders.ReportToken, StringComparison.OrdinalIgnoreCase)))
                    tokens.Add(Bare(header.Value));
        foreach (var text in parts.OfType<TextPart>().Where(p => !p.IsHtml))
            foreach (Match quoted in QuotedToken().Matches(text.Text ?? ""))
                if (tokens.Count < MaxTokens)
                    tokens.Add(Bare(quoted.Groups[1].Value));
        return tokens;
    }

    private const int MaxTokens = 8;

    /// <summary>A bounce without a report part: from the mailer daemon or postmaster, or titled as one.</summary>
    private static bool LooksLikeBounce(MimeMessage message) =>
        message.From.Mailboxes.Any(m => m.LocalPart.Equals("mailer-daemon", StringComparison.OrdinalIgnoreCase)
            || m.LocalPart.Equals("postmaster", StringComparison.OrdinalIgnoreCase))
        || BounceSubject().IsMatch(message.Subject ?? "");

    /// <summary>
    /// qmail's "&lt;address&gt;:" followed by the reason, and Exim's indented address followed by the remote reply: an address
    /// line, then within four lines an enhanced status code or an SMTP reply code.
    /// </summary>
    private static List<RecipientReport> ReadPlainBounce(List<MimeEntity> parts)
    {
        var recipients = new List<RecipientReport>();
        if (parts.OfType<TextPart>().FirstOrDefault(p => !p.IsHtml) is not { } text)
            return recipients;
        var lines = (text.Text ?? "").ReplaceLineEndings("\n").Split('\n');
        var permanent = PermanentWords().IsMatch(text.Text ?? "");
        for (var i = 0; i < lines.Length && recipients.Count < MaxRecipients; i++)
        {
            if (AddressLine().Match(lines[i]) is not { Success: true } line)
                continue;
            var reason = string.Join(" ", lines.Skip(i + 1).Take(4).TakeWhile(l => l.Trim().Length > 0 && !AddressLine().IsMatch(l)).Select(l => l.Trim()));
            var code = StatusCode(reason) ?? CodeOfReply(reason) ?? (permanent ? "5.0.0" : null);
            if (code is null)
                continue;
            recipients.Add(new RecipientReport(line.Groups[1].Value, "failed", code, reason.Length > 0 ? JobCodec.OneLine(reason) : null));
        }
        return recipients;
    }

    private static bool IsAutoReply(MimeMessage message)
    {
        var headers = message.Headers;
        return headers["Auto-Submitted"] is { } submitted && !submitted.Trim().Equals("no", StringComparison.OrdinalIgnoreCase)
            || headers.Contains("X-Autoreply") || headers.Contains("X-Autorespond") || headers.Contains("X-Auto-Response-Suppress") && AutoReplySubject().IsMatch(message.Subject ?? "")
            || headers["Precedence"]?.Trim().ToLowerInvariant() is "auto_reply" or "auto-reply"
            || AutoReplySubject().IsMatch(message.Subject ?? "");
    }

    /// <summary>"rfc822; bob@example.com" → "bob@example.com"; a value without a type as it is.</summary>
    private static string? TypedValue(string? field)
    {
        if (string.IsNullOrWhiteSpace(field))
            return null;
        var value = field.ReplaceLineEndings(" ").Trim();
        var semicolon = value.IndexOf(';');
        return (semicolon >= 0 ? value[(semicolon + 1)..] : value).Trim();
    }

    private static string Bare(string address) => address.Trim().Trim('<', '>').Trim();

    private static string? StatusCode(string? text) => text is not null && EnhancedCode().Match(text) is { Success: true } match ? match.Value : null;

    /// <summary>An SMTP reply code at the start of a diagnostic ("550 user unknown" → 5.0.0).</summary>
    private static string? CodeOfReply(string? text) =>
        text is not null && ReplyCode().Match(text) is { Success: true } match ? $"{match.Groups[1].Value[0]}.0.0" : null;

    [GeneratedRegex(@"\b[245]\.\d{1,3}\.\d{1,3}\b")]
    private static partial Regex EnhancedCode();

    [GeneratedRegex(@"(?:^|\s|#)([45]\d\d)(?:[\s:-]|$)")]
    private static partial Regex ReplyCode();

    [GeneratedRegex(@"^\s*<?([^\s<>@:]+@[^\s<>:]+\.[A-Za-z]{2,})>?:?\s*$")]
    private static partial Regex AddressLine();

    [GeneratedRegex(@"^Message-ID:\s*(<[^>\r\n]+>)", RegexOptions.Multiline | RegexOptions.IgnoreCase)]
    private static partial Regex QuotedMessageId();

    [GeneratedRegex(@"^(?:Return-Path|X-Report-Token):\s*<?([^\s<>]{1,320})>?\s*$", RegexOptions.Multiline | RegexOptions.IgnoreCase)]
    private static partial Regex QuotedToken();

    [GeneratedRegex(@"undeliver|undelivered|delivery (status notification|failure|has failed)|failure notice|returned mail|mail delivery (failed|system)|non-?delivery",
        RegexOptions.IgnoreCase)]
    private static partial Regex BounceSubject();

    [GeneratedRegex(@"permanent error|permanent fatal|given up|could not be delivered", RegexOptions.IgnoreCase)]
    private static partial Regex PermanentWords();

    [GeneratedRegex(@"^(out of (the )?office|automatic reply|auto(matic)?[- ]?(reply|response)|autoreply|abwesenheit|absence)\b|^auto:", RegexOptions.IgnoreCase)]
    private static partial Regex AutoReplySubject();
}
