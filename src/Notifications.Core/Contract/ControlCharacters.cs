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
}
