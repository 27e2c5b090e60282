namespace Notifications.Core.Contract;

/// <summary>
/// Characters no subject, header value or display name has a use for (NUL, BEL, ESC, DEL, C1 controls): a relay
/// or a mail client may cut the value there or act on them. Tab stays allowed; CR and LF have their own, clearer error.
/// </summary>
public static class ControlCharacters
{
    public static bool In(string value)
    {
        foreach (var c in value)
            if (char.IsControl(c) && c is not ('\t' or '\r' or '\n'))
                return true;
        return false;
    }

    /// <summary>
    /// A bidirectional override, embedding, isolate or mark (U+202A–202E, U+2066–2069, U+200E/F, U+061C): it reorders what
    /// a person sees, so <c>report\u202Efdp.exe</c> reads as <c>reportexe.pdf</c>.
    /// </summary>
    public static bool IsDirectionControl(char c) => c is >= '\u202A' and <= '\u202E' or >= '\u2066' and <= '\u2069' or '\u200E' or '\u200F' or '\u061C';
}
