using System.Buffers;
using System.Text;
using MimeKit;
using Notifications.Core.Contract;
using SmtpServer.Protocol;

namespace Notifications.Api.Submission;

/// <summary>
/// A message submitted by SMTP, read and checked: the bytes as the application wrote them, less the service's control
/// headers (<c>X-Notifications-*</c>) and any <c>Bcc</c> header, cut out of the header block byte for byte, so what
/// reaches the recipients is what was written. Refused, with the SMTP reply that says why, when it is not a message
/// the service may send: bare LF or CR, a line over 998 characters, 8-bit data without <c>BODY=8BITMIME</c>, headers
/// MimeKit cannot read, a From that is not one mailbox, a header that carries a line break in its value or a second
/// copy of a header that may appear once (the marks of header injection), or a control header it does not know.
/// </summary>
public sealed partial class SubmittedMessage
{
    public const string ControlPrefix = "X-Notifications-";
    public const string ListHeader = "X-Notifications-List";
    public const string PriorityHeader = "X-Notifications-Priority";
    public const string MetadataPrefix = "X-Notifications-Metadata-";
    public const string SendAtHeader = "X-Notifications-Send-At";

    /// <summary>The longest line RFC 5322 allows, CRLF apart.</summary>
    public const int MaxLineLength = 998;

    // Headers a message has at most once (RFC 5322 3.6): a second one is how an injected line shows.
    private static readonly string[] OnceOnly = ["From", "Sender", "Reply-To", "To", "Cc", "Bcc", "Subject", "Message-ID", "Date", "In-Reply-To", "References"];

    private SubmittedMessage(byte[] bytes, MimeMessage parsed, MailboxAddress from)
    {
        Bytes = bytes;
        Parsed = parsed;
        From = from;
    }

    /// <summary>The message to send: the submitted bytes less control and Bcc headers (a Message-ID is added later, if missing).</summary>
    public byte[] Bytes { get; private set; }

    /// <summary>The message as MimeKit read it (before the control headers were taken out).</summary>
    public MimeMessage Parsed { get; }

    public MailboxAddress From { get; }

    public string Subject => Parsed.Subject ?? "";

    /// <summary>The Message-ID the application gave, without its angle brackets; null when it gave none.</summary>
    public string? MessageId => string.IsNullOrWhiteSpace(Parsed.MessageId) ? null : Parsed.MessageId;

    public string? List { get; private init; }
    public string? Priority { get; private init; }
    public string? SendAt { get; private init; }
    public IReadOnlyDictionary<string, string>? Metadata { get; private init; }

    /// <summary>The addresses the To and Cc headers show (lower case): envelope recipients among them are not hidden.</summary>
    public HashSet<string> Shown { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Reads <paramref name="data"/> (what came between DATA and the final dot, dots unstuffed).</summary>
    /// <param name="eightBit">the transaction declared <c>BODY=8BITMIME</c> or <c>SMTPUTF8</c>.</param>
    /// <param name="refusal">the reply when it is refused.</param>
    public static SubmittedMessage? TryRead(ReadOnlySequence<byte> data, bool eightBit, out SmtpResponse? refusal)
    {
        // The dot block ends at the CRLF before the dot: that CRLF ends the message's last line.
        var bytes = new byte[data.Length + 2];
        data.CopyTo(bytes);
        bytes[^2] = (byte)'\r';
        bytes[^1] = (byte)'\n';
        if (LineProblem(bytes, eightBit) is { } lineProblem)
        {
            refusal = Refuse("5.6.0", lineProblem);
            return null;
        }

        MimeMessage parsed;
        try
        {
            using var stream = new MemoryStream(bytes, writable: false);
            parsed = MimeMessage.Load(stream);
        }
        catch (Exception ex) when (ex is ParseException or FormatException)
        {
            refusal = Refuse("5.6.0", $"The message cannot be parsed as MIME: {ex.Message}");
            return null;
        }
        if (HeaderProblem(parsed) is { } headerProblem)
        {
            refusal = Refuse("5.7.0", headerProblem);
            return null;
        }
        var fromList = parsed.From;
        if (fromList.Count != 1 || fromList[0] is not MailboxAddress from || string.IsNullOrEmpty(from.Address) || !from.Address.Contains('@'))
        {
            refusal = Refuse("5.6.0",
                fromList.Count == 0 ? "The message has no From header" : "From must name exactly one mailbox");
            return null;
        }

        string? list = null, priority = null, sendAt = null;
        Dictionary<string, string>? metadata = null;
        foreach (var header in parsed.Headers)
        {
            if (!header.Field.StartsWith(ControlPrefix, StringComparison.OrdinalIgnoreCase))
                continue;
            var value = header.Value.Trim();
            if (header.Field.Equals(ListHeader, StringComparison.OrdinalIgnoreCase))
                list = value;
            else if (header.Field.Equals(PriorityHeader, StringComparison.OrdinalIgnoreCase))
                priority = value.ToLowerInvariant();
            else if (header.Field.Equals(SendAtHeader, StringComparison.OrdinalIgnoreCase))
                sendAt = value;
            else if (header.Field.StartsWith(MetadataPrefix, StringComparison.OrdinalIgnoreCase) && header.Field.Length > MetadataPrefix.Length)
                (metadata ??= new(StringComparer.Ordinal))[header.Field[MetadataPrefix.Length..]] = value;
            else
            {
                refusal = Refuse("5.6.0",
                    $"Unknown control header {header.Field}: the service reads {ListHeader}, {PriorityHeader}, {MetadataPrefix}<key> and {SendAtHeader}");
                return null;
            }
        }

        var message = new SubmittedMessage(bytes, parsed, from) { List = list, Priority = priority, SendAt = sendAt, Metadata = metadata };
        foreach (var shown in parsed.To.Mailboxes.Concat(parsed.Cc.Mailboxes))
            message.Shown.Add(shown.Address);
        message.Bytes = HeaderBlock.Without(bytes, field =>
            field.StartsWith(ControlPrefix, StringComparison.OrdinalIgnoreCase) || field.Equals("Bcc", StringComparison.OrdinalIgnoreCase)
            // A list mail's List-* headers are the service's: the unsubscribe link must be one it can honour.
            || (list is not null && field.StartsWith("List-", StringComparison.OrdinalIgnoreCase)));
        refusal = null;
        return message;
    }

    /// <summary>Adds <c>Message-ID: &lt;id&gt;</c> at the top of the header block (for a message that came without one).</summary>
    public void AddMessageId(string id) =>
        Bytes = [.. Encoding.ASCII.GetBytes($"Message-ID: <{id}>\r\n"), .. Bytes];

    /// <summary>Bare CR or LF, an over-long line, or 8-bit bytes the transaction did not declare; null when the lines are sound.</summary>
    private static string? LineProblem(ReadOnlySpan<byte> bytes, bool eightBit)
    {
        var line = 1;
        var start = 0;
        for (var i = 0; i < bytes.Length; i++)
        {
            var b = bytes[i];
            if (b == '\n')
            {
                if (i == 0 || bytes[i - 1] != '\r')
                    return $"Bare LF on line {line}: lines end with CRLF";
                if (i - 1 - start > MaxLineLength)
                    return $"Line {line} is {i - 1 - start} characters long, more than the {MaxLineLength} RFC 5322 allows";
                line++;
                start = i + 1;
            }
            else if (b == '\r' && (i + 1 == bytes.Length || bytes[i + 1] != '\n'))
                return $"Bare CR on line {line}: lines end with CRLF";
            else if (b == 0)
                return $"NUL on line {line}";
            else if (b >= 0x80 && !eightBit)
                return $"8-bit data on line {line} without BODY=8BITMIME: declare it in MAIL FROM, or encode the message";
        }
        return null;
    }

    /// <summary>
    /// A line break or NUL inside a header's value once its encoded words are decoded (MimeKit drops them when it decodes;
    /// a recipient's reader may not), or a second copy of a header that may appear once.
    /// </summary>
    private static string? HeaderProblem(MimeMessage message)
    {
        foreach (var header in message.Headers)
        {
            var raw = Encoding.Latin1.GetString(header.RawValue);
            if (raw.Contains('\0') || EncodedWord().Matches(raw).Any(w => DecodesToLineBreak(w.Groups[1].Value, w.Groups[2].Value)))
                return $"Header injection: the {header.Field} header carries a line break in its value";
        }
        foreach (var name in OnceOnly)
        {
            if (message.Headers.Count(h => h.Field.Equals(name, StringComparison.OrdinalIgnoreCase)) > 1)
                return $"Header injection: the message has more than one {name} header";
        }
        return null;
    }

    /// <summary>Whether an encoded word (RFC 2047) decodes to bytes that hold CR, LF or NUL.</summary>
    private static bool DecodesToLineBreak(string encoding, string text)
    {
        byte[] bytes;
        if (encoding is "B" or "b")
        {
            try
            {
                bytes = Convert.FromBase64String(text);
            }
            catch (FormatException)
            {
                return false; // not decodable: shown as written, harmless
            }
        }
        else
        {
            var decoded = new List<byte>(text.Length);
            for (var i = 0; i < text.Length; i++)
            {
                if (text[i] == '=' && i + 2 < text.Length && Uri.IsHexDigit(text[i + 1]) && Uri.IsHexDigit(text[i + 2]))
                {
                    decoded.Add(Convert.ToByte(text.Substring(i + 1, 2), 16));
                    i += 2;
                }
                else
                    decoded.Add((byte)text[i]);
            }
            bytes = [.. decoded];
        }
        return bytes.AsSpan().IndexOfAny((byte)'\r', (byte)'\n', (byte)0) >= 0;
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"=\?[^?\s]+\?([QqBb])\?([^?\s]*)\?=")]
    private static partial System.Text.RegularExpressions.Regex EncodedWord();

    /// <summary>A 554 with its enhanced status: the message is refused for what it is, and sending it again will not help.</summary>
    private static SmtpResponse Refuse(string status, string text) => new(SmtpReplyCode.TransactionFailed, $"{status} {text}");
}
