using MimeKit;

namespace Notifications.Core.Contract;

/// <summary>Strict parsing of one mailbox per string, the way the API and the worker both need it.</summary>
public static class EmailAddresses
{
    private static readonly ParserOptions Strict = new()
    {
        AddressParserComplianceMode = RfcComplianceMode.Strict,
        AllowAddressesWithoutDomain = false,
    };

    public static bool TryParseMailbox(string? value, out MailboxAddress? mailbox, out string? error)
    {
        mailbox = null;
        if (string.IsNullOrWhiteSpace(value))
        {
            error = "must not be empty";
            return false;
        }
        if (value.AsSpan().IndexOfAny('\r', '\n') >= 0)
        {
            error = "must not contain CR or LF";
            return false;
        }
        if (ControlCharacters.In(value))
        {
            error = "must not contain control characters (NUL, BEL, ESC, …)";
            return false;
        }
        if (!InternetAddressList.TryParse(Strict, value, out var list) || list.Count == 0)
        {
            error = $"'{value}' is not a valid email address";
            return false;
        }
        if (list.Count > 1)
        {
            error = "one address per entry";
            return false;
        }
        if (list[0] is not MailboxAddress parsed || string.IsNullOrEmpty(parsed.Domain) || string.IsNullOrEmpty(parsed.LocalPart))
        {
            error = $"'{value}' is not a single mailbox with a domain";
            return false;
        }
        mailbox = parsed;
        error = null;
        return true;
    }

    /// <summary>What an erased address reads as wherever it was (the message log, a status's recipients).</summary>
    public const string Erased = "[erased]";

    /// <summary>Replaces every occurrence of <paramref name="address"/> in <paramref name="text"/>, whatever its case, by <see cref="Erased"/>.</summary>
    public static string Scrub(string text, string address) => text.Replace(address, Erased, StringComparison.OrdinalIgnoreCase);
}
