using System.Text.RegularExpressions;
using Notifications.Core.Contract;

namespace Notifications.Core.Suppressions;

/// <summary>How an address is keyed in the suppression list, and which refusals put it there.</summary>
public static partial class SuppressedAddress
{
    /// <summary>
    /// The key of an address: the bare address of a recipient as the job carries it ("Bob &lt;Bob@Example.COM&gt;" →
    /// "Bob@example.com"), trimmed, the domain in lower case. The local part keeps its case: RFC 5321 lets a mailbox
    /// tell them apart, and a relay answers for the address as it was sent.
    /// </summary>
    /// <returns>null when it is not one address.</returns>
    public static string? Normalize(string? value)
    {
        if (value is null || !EmailAddresses.TryParseMailbox(value.Trim(), out var mailbox, out _))
            return null;
        var address = mailbox!.Address;
        var at = address.LastIndexOf('@');
        return at <= 0 ? null : address[..at] + "@" + address[(at + 1)..].ToLowerInvariant();
    }

    /// <summary>
    /// The key of an address for one list of one client: <c>bob@example.com#shop/digest</c>. No address looks like it (its
    /// domain would hold '#' and '/'), so a list entry never stands for the address as a whole.
    /// </summary>
    public static string ListKey(string address, string? client, string list) => $"{address}#{client}/{list}";

    /// <summary>The address of a key (<see cref="ListKey"/> or a plain one).</summary>
    public static string AddressOfKey(string key) => key.IndexOf('#', key.LastIndexOf('@') + 1) is > 0 and var hash ? key[..hash] : key;

    /// <summary>
    /// A hard bounce: the mailbox does not exist or is disabled, for good — 5.1.x (bad destination mailbox), 5.2.1
    /// (mailbox disabled), or a 550/551/553 without an enhanced code whose text says the user is unknown. Policy refusals
    /// (5.7.x: spam, not authorized, DMARC) say nothing about the mailbox and are not suppressed, nor is any 4xx.
    /// </summary>
    public static bool IsHardBounce(int code, string? text)
    {
        if (code is < 500 or > 599)
            return false;
        text ??= "";
        if (EnhancedCode().Match(text) is { Success: true } enhanced)
        {
            var (subject, detail) = (enhanced.Groups[1].Value, enhanced.Groups[2].Value);
            return subject == "1" || subject == "2" && detail == "1";
        }
        return code is 550 or 551 or 553 && UnknownUser().IsMatch(text);
    }

    [GeneratedRegex(@"\b5\.(\d{1,3})\.(\d{1,3})\b")]
    private static partial Regex EnhancedCode();

    [GeneratedRegex(@"user unknown|unknown user|no such (user|mailbox|recipient)|does not exist|doesn't exist|mailbox (unavailable|not found|disabled)|recipient (rejected|unknown|not found)|invalid (recipient|mailbox)|address rejected",
        RegexOptions.IgnoreCase)]
    private static partial Regex UnknownUser();
}
