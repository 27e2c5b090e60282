using System.Globalization;
using System.Text;

namespace Notifications.Bench;

/// <summary>The results table in Markdown, and how its figures are written.</summary>
public sealed class ReportTable
{
    private readonly StringBuilder _text = new();

    public void Line(string text = "") => _text.AppendLine(text);

    public void Row(string name, string value) => _text.AppendLine($"| {name} | {value} |");

    public override string ToString() => _text.ToString();

    public static string Latency(Percentile ms) => $"{ms.P50:0.0} / {ms.P95:0.0} / {ms.P99:0.0} / {ms.Max:0.0} ms";

    public static string Cpu(Dictionary<string, double> parts) =>
        string.Join(", ", parts.Select(p => $"{p.Key} {p.Value.ToString("0.00", CultureInfo.InvariantCulture)}")) +
        $" (total {parts.Values.Sum().ToString("0.00", CultureInfo.InvariantCulture)}; {Environment.ProcessorCount} cores give {1000.0 * Environment.ProcessorCount / Math.Max(parts.Values.Sum(), 0.001):0} jobs/s at most)";

    public static string Mb(long bytes) => (bytes / 1024.0 / 1024).ToString("0", CultureInfo.InvariantCulture);

    /// <summary>A working set at the end within 10 % of its value at a tenth of the run.</summary>
    public static bool Flat(long atTenth, long atEnd, double within = 0.1) => Math.Abs(atEnd - atTenth) <= within * atTenth;
}
