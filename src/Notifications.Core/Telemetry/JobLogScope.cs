using System.Collections;

namespace Notifications.Core.Telemetry;

/// <summary>
/// The properties every log line about one job carries (<c>ILogger.BeginScope</c>; Serilog turns them into
/// properties): the job's id and client, and where known its attempt and queue. A list, not a dictionary: one small
/// allocation per job.
/// </summary>
public sealed class JobLogScope(string jobId, string? client, int? attempt = null, string? queue = null)
    : IReadOnlyList<KeyValuePair<string, object?>>
{
    public int Count => 2 + (attempt is null ? 0 : 1) + (queue is null ? 0 : 1);

    public KeyValuePair<string, object?> this[int index] => index switch
    {
        0 => new("JobId", jobId),
        1 => new("Client", client),
        2 when attempt is not null => new("Attempt", attempt),
        2 or 3 when queue is not null => new("Queue", queue),
        _ => throw new ArgumentOutOfRangeException(nameof(index)),
    };

    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator()
    {
        for (var i = 0; i < Count; i++)
            yield return this[i];
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public override string ToString() => $"JobId:{jobId} Client:{client}";
}
