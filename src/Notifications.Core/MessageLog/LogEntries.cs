using System.Text.Json.Nodes;
using Notifications.Core.Contract;

namespace Notifications.Core.MessageLog;

/// <summary>The entries the service writes about a job, built one way wherever they happen (API, worker, <c>dlq</c>, console).</summary>
public static class LogEntries
{
    public const string ViaHttp = "http";
    public const string ViaBatch = "batch";
    public const string ViaSmtp = "smtp";

    /// <summary>The message's facts as the job says them (never its attachments' content: their names and sizes are in the size).</summary>
    public static LoggedMessage Facts(EmailJob job, string? via = null, bool? signed = null) => new(job.CreatedAt, job.From, job.Subject)
    {
        To = job.To,
        Cc = job.Cc,
        Bcc = job.Bcc,
        List = job.List,
        Priority = job.Priority,
        Metadata = job.Metadata,
        SendAt = job.SendAt,
        Size = job.Raw?.Length ?? (job.Text?.Length ?? 0) + (job.Html?.Length ?? 0) + (job.Attachments?.Sum(a => (long)(a.Content?.Length ?? 0) * 3 / 4) ?? 0),
        Signed = signed,
        Via = via,
        FollowUpOf = job.OnlyTo is null ? null : FollowUpOf(job.Id),
    };

    /// <summary>A follow-up job's id is its job's id, <c>-r</c>, and the attempt (the worker's FollowUpJobs.IdFor).</summary>
    private static string? FollowUpOf(string id) => id.LastIndexOf("-r", StringComparison.Ordinal) is > 0 and var at
        && int.TryParse(id.AsSpan(at + 2), out _) ? id[..at] : null;

    /// <summary>The API took the job: <c>accepted</c>, and <c>scheduled</c> when it waits for its time.</summary>
    public static IReadOnlyList<LogEntry> Accepted(EmailJob job, string via)
    {
        var facts = Facts(job, via);
        var accepted = new LogEntry(job.Id, LogEntryTypes.Accepted, job.CreatedAt)
        {
            Client = job.Client,
            Key = LogEntryTypes.Accepted,
            Message = facts,
            Details = new JsonObject { ["via"] = via },
        };
        return job.SendAt is { } sendAt
            ? [accepted, new LogEntry(job.Id, LogEntryTypes.Scheduled, job.CreatedAt)
                { Client = job.Client, Key = LogEntryTypes.Scheduled, Details = new JsonObject { ["sendAt"] = sendAt } }]
            : [accepted];
    }

    public static LogEntry Of(string jobId, string? client, string type, DateTimeOffset at, string key, JsonObject? details = null) =>
        new(jobId, type, at) { Client = client, Key = key, Details = details };

    public static JsonArray Array(IEnumerable<string> values) => [.. values.Select(v => (JsonNode?)JsonValue.Create(v))];
}
