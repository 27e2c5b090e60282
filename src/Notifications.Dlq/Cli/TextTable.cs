namespace Notifications.Dlq.Cli;

/// <summary>A plain aligned table for people, every cell escaped for a terminal (<see cref="TerminalText"/>); scripts use --json.</summary>
public sealed class TextTable(params string[] headers)
{
    private const int MaxCellWidth = 60;
    private readonly List<string[]> _rows = [];

    public void Add(params string?[] cells) =>
        _rows.Add(cells.Select(c => Clip(TerminalText.Escape((c ?? "").ReplaceLineEndings(" ")))).ToArray());

    public void WriteTo(TextWriter output)
    {
        var widths = headers.Select((h, i) => Math.Max(h.Length, _rows.Select(r => r[i].Length).DefaultIfEmpty(0).Max())).ToArray();
        output.WriteLine(Line(headers, widths));
        foreach (var row in _rows)
            output.WriteLine(Line(row, widths));
    }

    private static string Line(string[] cells, int[] widths) =>
        string.Join("  ", cells.Select((c, i) => i == cells.Length - 1 ? c : c.PadRight(widths[i]))).TrimEnd();

    private static string Clip(string text) => text.Length <= MaxCellWidth ? text : text[..(MaxCellWidth - 1)] + "…";
}
