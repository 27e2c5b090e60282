using System.Text.Json.Nodes;
using Notifications.Core.MessageLog;
using Notifications.Core.Store;

namespace Notifications.Worker.Settling;

/// <summary>
/// The message log's entries of the outcome (the attempt, the status it left the job in, what else the route adds), handed
/// to the log through <c>message.log</c>, confirmed: the log's store is written later by its writer, so a slow or absent
/// store never holds a mail; a crash before the confirm announces them again with the redelivery.
/// </summary>
public sealed class LogAnnouncement(MessageLogPublisher log) : IAnnouncementStep
{
    public string Name(Announcement announcement) => "message-log entries";

    public bool MustConfirm => true;

    public Task AnnounceAsync(Announcement announcement, CancellationToken cancellationToken) =>
        log.Enabled && Entries(announcement) is { Count: > 0 } entries ? log.PublishAsync(entries, cancellationToken) : Task.CompletedTask;

    /// <summary>The entries an announcement stands for; the first carries the message's facts, the attempt its content.</summary>
    public static List<LogEntry> Entries(Announcement announcement)
    {
        var entries = new List<LogEntry>(3);
        var told = announcement.Status ?? announcement.WrittenStatus;
        var replays = told?.Replays ?? 0;
        if (announcement.Attempt is { } attempt)
            entries.Add(attempt.ToLogEntry(announcement.JobId, announcement.Client, replays) with { Content = announcement.Content });
        if (told is { } status && TypeOf(status.Status) is { } type)
        {
            var details = new JsonObject();
            if (status.Attempt is { } number)
                details["attempt"] = number;
            if (status.Replays > 0)
                details["replays"] = status.Replays;
            if (status.Kind is not null)
                details["kind"] = status.Kind;
            if (status.Error is not null)
                details[type == LogEntryTypes.Suppressed ? "why" : "error"] = status.Error;
            if (status.Recipients?.Rejected is { Count: > 0 } rejected)
                details["rejected"] = new JsonArray([.. rejected.Select(r => (JsonNode)new JsonObject { ["address"] = r.Address, ["reply"] = r.Reply })]);
            if (status.Recipients?.Suppressed is { Count: > 0 } suppressed)
                details["suppressed"] = LogEntries.Array(suppressed);
            foreach (var (name, value) in announcement.LogDetails ?? [])
                details[name] = value?.DeepClone();
            entries.Add(LogEntries.Of(status.JobId, announcement.Client ?? status.Client, type, status.At, $"{type}:{status.Replays}:{status.Attempt ?? 0}", details));
            if (status.Recipients?.Deferred is { Count: > 0 } deferred)
                entries.Add(LogEntries.Of(status.JobId, announcement.Client ?? status.Client, LogEntryTypes.Deferred, status.At,
                    $"{LogEntryTypes.Deferred}:{status.Replays}:{status.Attempt ?? 0}", new JsonObject
                    {
                        ["recipients"] = new JsonArray([.. deferred.Select(r => (JsonNode)new JsonObject { ["address"] = r.Address, ["reply"] = r.Reply })]),
                        ["followUp"] = deferred[0].FollowUp,
                    }));
        }
        entries.AddRange(announcement.Log ?? []);
        if (entries.Count > 0 && announcement.Job is { } job)
            entries[0] = entries[0] with { Message = LogEntries.Facts(job, signed: announcement.Signed) };
        return entries;
    }

    /// <summary>
    /// The bodies as the job has them (a submitted message's: its text and html parts, as MimeKit finds them) and the
    /// headers of the message as it went out (signature included, Bcc never there).
    /// </summary>
    public static LoggedContent ContentOf(Core.Contract.EmailJob job, MimeKit.MimeMessage? message) =>
        new(job.Raw is null ? job.Text : message?.TextBody, job.Raw is null ? job.Html : message?.HtmlBody,
            message is null ? [] : [.. message.Headers.Select(h => new LoggedHeader(h.Field, h.Value))]);

    private static string? TypeOf(string status) => status switch
    {
        JobStatus.Sent => LogEntryTypes.Sent,
        JobStatus.Retrying => LogEntryTypes.RetryScheduled,
        JobStatus.Dead => LogEntryTypes.DeadLettered,
        JobStatus.Suppressed => LogEntryTypes.Suppressed,
        JobStatus.Replayed => LogEntryTypes.Replayed,
        JobStatus.Cancelled => LogEntryTypes.Cancelled,
        _ => null,
    };
}
