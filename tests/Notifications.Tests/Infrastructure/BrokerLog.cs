namespace Notifications.Tests.Infrastructure;

/// <summary>
/// The test broker's own log (<c>RABBITMQ_LOG_DIR</c>, which <c>scripts/test.sh</c> sets for the node it starts): what a
/// test's run made the broker write. Without the variable (a broker someone else runs) there is nothing to read.
/// </summary>
public sealed class BrokerLog
{
    private readonly Dictionary<string, long> _start;

    private BrokerLog(Dictionary<string, long> start) => _start = start;

    public static BrokerLog Start() => new(Files().ToDictionary(f => f, f => new FileInfo(f).Length));

    /// <summary>Lines written since <see cref="Start"/> that contain any of <paramref name="markers"/>.</summary>
    public IReadOnlyList<string> NewErrors(params string[] markers)
    {
        var found = new List<string>();
        foreach (var file in Files())
        {
            using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            stream.Seek(_start.GetValueOrDefault(file), SeekOrigin.Begin);
            using var reader = new StreamReader(stream);
            while (reader.ReadLine() is { } line)
                if (markers.Any(m => line.Contains(m, StringComparison.OrdinalIgnoreCase)))
                    found.Add(line);
        }
        return found;
    }

    private static IEnumerable<string> Files() =>
        Environment.GetEnvironmentVariable("RABBITMQ_LOG_DIR") is { Length: > 0 } dir && Directory.Exists(dir)
            ? Directory.EnumerateFiles(dir, "*.log")
            : [];
}
