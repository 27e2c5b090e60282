using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Notifications.Core.MessageLog;

namespace Notifications.Api.Messages;

/// <summary>
/// The search's query string, read strictly: an unknown filter, a malformed time, a limit out of range or a cursor that
/// was changed is a 400 naming it, never a search for something else.
/// </summary>
public static partial class MessageQueryBinding
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 500;
    public const int MaxValueLength = 320;

    private static readonly HashSet<string> Known = new(StringComparer.Ordinal)
        { "recipient", "from", "subject", "status", "list", "since", "until", "client", "limit", "cursor" };

    /// <param name="scope">the caller's client when it sees only its own messages; null for an operator.</param>
    public static (MessageQuery? Query, Dictionary<string, string[]> Errors) Bind(IQueryCollection query, string? scope)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var metadata = new List<KeyValuePair<string, string>>();
        foreach (var (key, values) in query)
        {
            if (values.Count > 1)
                errors[key] = [$"{key} is given {values.Count} times; give it once"];
            else if (values.ToString() is { Length: > MaxValueLength })
                errors[key] = [$"{key} is longer than {MaxValueLength} characters"];
            else if (MetadataKey().Match(key) is { Success: true } match)
                metadata.Add(new(match.Groups[1].Value, values.ToString()));
            else if (!Known.Contains(key))
                errors[key] = [$"unknown filter '{key}': the filters are {string.Join(", ", Known)} and metadata[key]"];
        }
        string? One(string name) => query.TryGetValue(name, out var v) && v.Count == 1 && !string.IsNullOrWhiteSpace(v[0]) ? v[0]!.Trim() : null;

        var recipient = Address(One("recipient"), "recipient", errors);
        var from = Address(One("from"), "from", errors);
        var subject = One("subject");
        if (subject is not null && LogAddresses.Words(subject).Count == 0)
            errors["subject"] = ["subject has no word in it (letters or digits)"];
        var status = One("status");
        if (status is not null && !MessageStatuses.All.Contains(status))
            errors["status"] = [$"status is one of {string.Join(", ", MessageStatuses.All)}"];
        var since = Time(One("since"), "since", errors);
        var until = Time(One("until"), "until", errors);
        if (since is not null && until is not null && since >= until)
            errors["until"] = ["until must be after since"];
        var limit = DefaultLimit;
        if (One("limit") is { } limitText && (!int.TryParse(limitText, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > MaxLimit))
            errors["limit"] = [$"limit is a whole number from 1 to {MaxLimit}"];
        var client = One("client");
        if (client is not null && scope is not null && client != scope)
            errors["client"] = ["client is an operator's filter: your key sees only its own messages"];
        var built = new MessageQuery(limit)
        {
            Client = scope ?? client,
            Recipient = recipient,
            From = from,
            Subject = subject,
            Status = status,
            List = One("list"),
            Metadata = metadata,
            Since = since,
            Until = until,
        };
        if (One("cursor") is { } cursor)
        {
            if (Cursor.Read(cursor, built) is { } position)
                built = built with { After = position };
            else
                errors["cursor"] = ["cursor is not one this search gave (it was changed, or belongs to other filters): start again without it"];
        }
        return (errors.Count == 0 ? built : null, errors);
    }

    private static string? Address(string? value, string name, Dictionary<string, string[]> errors)
    {
        if (value is null)
            return null;
        if (LogAddresses.Normalize(value) is { } address)
            return address;
        errors[name] = [$"{name} is one whole address, like bob@example.com"];
        return null;
    }

    private static DateTimeOffset? Time(string? value, string name, Dictionary<string, string[]> errors)
    {
        if (value is null)
            return null;
        if (IsoTime().IsMatch(value) && DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.None, out var at))
            return at;
        errors[name] = [$"{name} is an ISO 8601 time with an offset, like 2026-12-01T09:00:00Z"];
        return null;
    }

    [GeneratedRegex(@"^metadata\[([^\[\]]{1,100})\]$")]
    private static partial Regex MetadataKey();

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?(Z|[+-]\d{2}:\d{2}))?$")]
    private static partial Regex IsoTime();

    /// <summary>
    /// The position after a page, bound to the filters it was given for: <c>base64url(time|id|check)</c>, the check a hash
    /// of the position and the filters. Not a secret: a made-up cursor can only move within what the caller may see (the
    /// client scope is the key's, never the cursor's), so the check is there to turn an edited or misplaced cursor into a
    /// 400 instead of a wrong page.
    /// </summary>
    public static class Cursor
    {
        public static string Write(MessagePosition position, MessageQuery query) =>
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"{position.AcceptedAtMs}|{position.Id}|{Check(position, query)}"))
                .TrimEnd('=').Replace('+', '-').Replace('/', '_');

        public static MessagePosition? Read(string cursor, MessageQuery query)
        {
            try
            {
                var padded = cursor.Replace('-', '+').Replace('_', '/');
                padded += new string('=', (4 - padded.Length % 4) % 4);
                var parts = Encoding.UTF8.GetString(Convert.FromBase64String(padded)).Split('|');
                if (parts.Length != 3 || !long.TryParse(parts[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out var at))
                    return null;
                var position = new MessagePosition(at, parts[1]);
                return CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(parts[2]), Encoding.ASCII.GetBytes(Check(position, query))) ? position : null;
            }
            catch (FormatException)
            {
                return null;
            }
        }

        private static string Check(MessagePosition position, MessageQuery query)
        {
            var filters = string.Join('\u001f', query.Client, query.Recipient, query.From, query.Subject, query.Status, query.List,
                string.Join('\u001e', query.Metadata.Select(p => p.Key + "=" + p.Value)), query.Since?.ToUnixTimeMilliseconds(), query.Until?.ToUnixTimeMilliseconds());
            return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"notifications-messages|{position.AcceptedAtMs}|{position.Id}|{filters}")))[..24];
        }
    }
}
