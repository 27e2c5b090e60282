using System.Text;

namespace Notifications.Api.Submission;

/// <summary>
/// A message's header block as bytes: headers are taken out whole (their folded lines with them) and nothing else is
/// touched, so the rest of the message reaches the recipients byte for byte as it was written.
/// </summary>
public static class HeaderBlock
{
    /// <summary>The message without the headers whose field name <paramref name="remove"/> picks; the same array when none is.</summary>
    /// <param name="message">a message whose lines end with CRLF.</param>
    public static byte[] Without(byte[] message, Func<string, bool> remove)
    {
        var kept = new List<(int Start, int End)>();
        var removed = false;
        var at = 0;
        var dropping = false;
        while (at < message.Length)
        {
            var end = Array.IndexOf(message, (byte)'\n', at);
            end = end < 0 ? message.Length : end + 1;
            var line = message.AsSpan(at, end - at);
            if (line.SequenceEqual("\r\n"u8))
                break; // the blank line: the body follows
            var continuation = line[0] is (byte)' ' or (byte)'\t';
            if (!continuation)
            {
                var colon = line.IndexOf((byte)':');
                dropping = colon > 0 && remove(Encoding.ASCII.GetString(line[..colon]).TrimEnd());
            }
            if (dropping)
                removed = true;
            else if (kept.Count > 0 && kept[^1].End == at)
                kept[^1] = (kept[^1].Start, end);
            else
                kept.Add((at, end));
            at = end;
        }
        if (!removed)
            return message;
        var result = new byte[kept.Sum(k => k.End - k.Start) + message.Length - at];
        var written = 0;
        foreach (var (start, end) in kept)
        {
            message.AsSpan(start, end - start).CopyTo(result.AsSpan(written));
            written += end - start;
        }
        message.AsSpan(at).CopyTo(result.AsSpan(written));
        return result;
    }
}
