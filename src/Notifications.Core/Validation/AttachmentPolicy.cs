using Notifications.Core.Contract;
using System.Text;

namespace Notifications.Core.Validation;

/// <summary>
/// Which attachments are not sent: by the file name's ending (after Unicode normalisation, trailing dots and spaces
/// dropped) and by the declared content type, so neither <c>notes.txt</c> declared <c>application/x-msdownload</c> nor
/// <c>invoice.pdf.exe</c> gets through; a name with a bidirectional override (<c>report\u202Efdp.exe</c> shows as
/// <c>reportexe.pdf</c>) is refused outright. Executables, scripts, disk images and HTML/SVG are blocked unless
/// <c>Email:AllowedAttachmentTypes</c> names the ending (which lets its content types through too).
/// </summary>
public sealed class AttachmentPolicy(EmailOptions options)
{
    public static readonly string[] DefaultBlockedExtensions =
    [
        // Windows executables and installers
        ".exe", ".com", ".scr", ".pif", ".cpl", ".msi", ".msp", ".mst", ".dll", ".sys", ".appx", ".appxbundle", ".msix", ".application", ".gadget",
        // scripts and shortcuts
        ".bat", ".cmd", ".js", ".jse", ".vbs", ".vbe", ".vb", ".wsf", ".wsh", ".ws", ".ps1", ".psm1", ".ps1xml", ".hta", ".sct", ".jar", ".lnk",
        ".scf", ".reg", ".chm", ".sh",
        // disk images (they carry executables past filters that do not open them)
        ".iso", ".img", ".vhd", ".vhdx",
        // HTML and SVG: pages that run script or phish once opened
        ".html", ".htm", ".xhtml", ".shtml", ".mht", ".mhtml", ".svg",
    ];

    /// <summary>Content types blocked whatever the name says, each with the endings whose allowing lets it through.</summary>
    private static readonly Dictionary<string, string[]> BlockedTypes = new(StringComparer.OrdinalIgnoreCase)
    {
        ["application/x-msdownload"] = [".exe", ".dll"],
        ["application/x-msdos-program"] = [".exe", ".com"],
        ["application/x-dosexec"] = [".exe"],
        ["application/vnd.microsoft.portable-executable"] = [".exe", ".dll"],
        ["application/x-executable"] = [".exe"],
        ["application/x-msi"] = [".msi"],
        ["application/x-ms-installer"] = [".msi"],
        ["application/x-bat"] = [".bat"],
        ["application/x-sh"] = [".sh"],
        ["application/javascript"] = [".js"],
        ["text/javascript"] = [".js"],
        ["application/x-javascript"] = [".js"],
        ["application/hta"] = [".hta"],
        ["application/java-archive"] = [".jar"],
        ["application/x-java-archive"] = [".jar"],
        ["application/vnd.ms-htmlhelp"] = [".chm"],
        ["application/x-iso9660-image"] = [".iso"],
        ["application/x-cd-image"] = [".iso"],
        ["application/x-raw-disk-image"] = [".img"],
        ["application/x-vhd"] = [".vhd", ".vhdx"],
        ["text/html"] = [".html", ".htm"],
        ["application/xhtml+xml"] = [".xhtml"],
        ["message/rfc822"] = [".mht", ".mhtml"],
        ["multipart/related"] = [".mht", ".mhtml"],
        ["image/svg+xml"] = [".svg"],
    };

    private readonly IReadOnlyList<string> _blocked = options.BlockedExtensions.Count > 0 ? options.BlockedExtensions : DefaultBlockedExtensions;
    private readonly HashSet<string> _allowed = new(options.AllowedAttachmentTypes.Select(Dotted), StringComparer.OrdinalIgnoreCase);

    /// <summary>Why this file is not sent, for the field it is about ("filename" or "contentType"); null when it may go.</summary>
    public (string Field, string Reason)? Refusal(string filename, string contentType)
    {
        if (filename.Any(ControlCharacters.IsDirectionControl))
            return ("filename", "filename must not hold bidirectional controls (U+202E and the like): they disguise what a file is");
        var name = Fold(filename).TrimEnd('.', ' ');
        if (_blocked.FirstOrDefault(ext => name.EndsWith(ext, StringComparison.OrdinalIgnoreCase) && !_allowed.Contains(ext)) is { } extension)
            return ("filename", $"'{extension}' files are not sent (Email:BlockedExtensions; Email:AllowedAttachmentTypes lets one through)");
        var mediaType = contentType.Split(';')[0].Trim();
        if (BlockedTypes.TryGetValue(mediaType, out var endings) && !endings.Any(_allowed.Contains))
            return ("contentType", $"'{mediaType}' attachments are not sent, whatever their name (Email:AllowedAttachmentTypes lets one through)");
        return null;
    }

    /// <summary>
    /// The name as a person reads it: NFKC where the runtime can (the services run with invariant globalization, which
    /// normalises ASCII only), and by hand the look-alikes that matter here, full-width forms and dots (U+FF0E, U+2024,
    /// U+FE52, U+3002), so <c>run．ｅｘｅ</c> ends in <c>.exe</c>.
    /// </summary>
    private static string Fold(string filename)
    {
        string normal;
        try
        {
            normal = filename.Normalize(NormalizationForm.FormKC);
        }
        catch (PlatformNotSupportedException)
        {
            normal = filename;
        }
        return string.Create(normal.Length, normal, static (span, text) =>
        {
            for (var i = 0; i < text.Length; i++)
                span[i] = text[i] switch
                {
                    >= '\uFF01' and <= '\uFF5E' and var wide => (char)(wide - 0xFEE0),
                    '\u2024' or '\uFE52' or '\u3002' => '.',
                    var c => c,
                };
        });
    }

    private static string Dotted(string extension) => extension.StartsWith('.') ? extension : "." + extension;
}
