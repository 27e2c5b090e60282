using System.Text.Json.Nodes;
using Notifications.Core.MessageLog;

namespace Notifications.Worker.SendPath;

/// <summary>
/// One try at the relay, as the message log records it: where, over TLS or not, how long, and what the relay answered
/// for each recipient (the refused ones their <c>RCPT TO</c> reply, the others the reply to the mail).
/// </summary>
/// <param name="Relay">host:port; null when the relay was never reached.</param>
/// <param name="Tls">null when unknown (the connection failed before it was made).</param>
public sealed record RelayAttempt(int Number, DateTimeOffset At, string? Relay, bool? Tls, double DurationMs, IReadOnlyList<(string Address, string Reply)> Recipients)
{
    public LogEntry ToLogEntry(string jobId, string? client, int replays) => LogEntries.Of(jobId, client, LogEntryTypes.Attempt, At,
        $"attempt:{replays}:{Number}", new JsonObject
        {
            ["attempt"] = Number,
            ["relay"] = Relay,
            ["tls"] = Tls,
            ["durationMs"] = Math.Round(DurationMs, 1),
            ["recipients"] = new JsonArray([.. Recipients.Select(r => (JsonNode)new JsonObject { ["address"] = r.Address, ["reply"] = r.Reply })]),
        });
}
