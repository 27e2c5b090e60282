using System.Globalization;
using System.Text;

namespace Notifications.Dlq.Cli;

/// <summary>
/// Text from a mail (a stranger's Subject, an address, a relay's error) as it may reach an operator's terminal: every
/// control character (C0, DEL, C1) and every bidirectional override or isolate shown escaped as <c>\xNN</c> /
/// <c>\u{NNNN}</c>, so nothing it carries can move the cursor, retitle the window, ring the bell or reorder the line.
/// </summary>
public static class TerminalText
{
    public static string Escape(string? text)
    {
        if (string.IsNullOrEmpty(text) || !text.Any(IsUnsafe))
            return text ?? "";
        var escaped = new StringBuilder(text.Length + 16);
        foreach (var c in text)
        {
            if (!IsUnsafe(c))
                escaped.Append(c);
            else if (c <= 0xFF)
                escaped.Append(CultureInfo.InvariantCulture, $"\\x{(int)c:X2}");
            else
                escaped.Append(CultureInfo.InvariantCulture, $"\\u{{{(int)c:X4}}}");
        }
        return escaped.ToString();
    }

    private static bool IsUnsafe(char c) => c < 0x20 || c is >= '\u007F' and <= '\u009F' || Core.Contract.ControlCharacters.IsDirectionControl(c);
}
