using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace Notifications.Core.DeadLetters;

/// <summary>
/// Groups dead letters by failure kind and last error with the variable parts (addresses, ids,
/// numbers) taken out, so 2,000 failures of one cause read as one line with a short key to replay.
/// </summary>
public static partial class FailureGroups
{
    public static string Normalize(string error)
    {
        var text = Email().Replace(error, "<address>");
        text = Guid().Replace(text, "<id>");
        text = Hex().Replace(text, "<id>");
        text = Number().Replace(text, match => IsReplyCode(match.Value) ? match.Value : "<n>");
        text = Spaces().Replace(text, " ").Trim();
        return text.Length <= 160 ? text : text[..160].TrimEnd();
    }

    /// <summary>A short stable key for (kind, normalized error), typed by operators.</summary>
    public static string Key(string kind, string error)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(kind + "\n" + Normalize(error)));
        return Convert.ToHexStringLower(hash)[..8];
    }

    public static string Key(DeadLetter letter) => Key(letter.Kind, letter.LastError);

    // SMTP reply codes (451, 5.1.1) say what went wrong; keep them.
    private static bool IsReplyCode(string number) => number.Length == 3 && number[0] is '2' or '3' or '4' or '5';

    [GeneratedRegex(@"[^\s<>""'@]+@[^\s<>""']+")]
    private static partial Regex Email();

    [GeneratedRegex(@"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b")]
    private static partial Regex Guid();

    [GeneratedRegex(@"\b[0-9a-fA-F]{16,}\b")]
    private static partial Regex Hex();

    [GeneratedRegex(@"(?<![\w.])\d+(?![\w.])")]
    private static partial Regex Number();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Spaces();
}
