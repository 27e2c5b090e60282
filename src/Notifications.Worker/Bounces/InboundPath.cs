using Notifications.Core.Bounces;
using Notifications.Core.Broker;
using Notifications.Core.Store;
using RabbitMQ.Client.Events;

namespace Notifications.Worker.Bounces;

/// <summary>
/// What came back, from its bytes to what it did, as named steps (the email path's shape): read the report
/// (<see cref="ReportReader"/>) → find its job by what the service itself signed → record it (<see cref="BounceRecorder"/>).
/// It settles nothing: <see cref="InboundSettlement"/> acks, parks or returns by the <see cref="InboundOutcome"/>.
/// </summary>
public sealed class InboundPath(ReturnPath returnPath, IJobStatuses statuses, BounceRecorder recorder)
{
    public async Task<InboundOutcome> RunAsync(BasicDeliverEventArgs delivery)
    {
        var report = ReportReader.Read(delivery.Body.ToArray());
        var kind = report.Kind switch
        {
            ReportKind.DeliveryStatus => "delivery-status",
            ReportKind.Complaint => "complaint",
            ReportKind.AutoReply => "auto-reply",
            _ => "unreadable",
        };
        switch (report.Kind)
        {
            case ReportKind.AutoReply:
                return new InboundOutcome.Dropped(kind);
            case ReportKind.Unreadable:
                return new InboundOutcome.Unparsed(kind, report.Why!);
        }
        if (await FindJobAsync(delivery, report) is not { } job)
            return new InboundOutcome.Unmatched(kind, "no job matches it: it came to no return path of ours that verifies, and the returned mail "
                + "carries none (an Original-Envelope-Id or Message-ID alone proves nothing)");
        await recorder.RecordAsync(job, report, CancellationToken.None);
        return new InboundOutcome.Recorded(kind);
    }

    /// <summary>
    /// The job by what the service itself signed: the return path the report came back to, else a return path the returned
    /// mail carries (a feedback loop's complaint to one fixed address). Its MAC must verify; an envelope id or Message-ID,
    /// which every recipient reads, proves nothing and is not looked at.
    /// </summary>
    private async Task<JobStatus?> FindJobAsync(BasicDeliverEventArgs delivery, InboundReport report)
    {
        var candidates = new List<string>();
        foreach (var rcpt in (HeaderValues.GetString(delivery.BasicProperties.Headers, InboundHeaders.Recipients) ?? "").Split(','))
            if (returnPath.TryReadJobId(rcpt.Trim(), out var id))
                candidates.Add(id);
        foreach (var token in report.ReturnedTokens ?? [])
            if (returnPath.TryReadJobId(token, out var id))
                candidates.Add(id);
        foreach (var id in candidates.Distinct(StringComparer.Ordinal))
            if (await statuses.GetStatusAsync(id, CancellationToken.None) is { } status)
                return status;
        return null;
    }
}

/// <summary>How an inbound message's way through <see cref="InboundPath"/> ended; <see cref="InboundSettlement"/> routes each kind.</summary>
/// <param name="Kind">what it was read as: <c>delivery-status</c>, <c>complaint</c>, <c>auto-reply</c>, <c>unreadable</c>.</param>
public abstract record InboundOutcome(string Kind)
{
    /// <summary>Recorded against its job (or found to change nothing there).</summary>
    public sealed record Recorded(string Kind) : InboundOutcome(Kind);

    /// <summary>An auto-reply: counted and dropped.</summary>
    public sealed record Dropped(string Kind) : InboundOutcome(Kind);

    /// <summary>Not a report that can be read: kept for an operator.</summary>
    public sealed record Unparsed(string Kind, string Why) : InboundOutcome(Kind);

    /// <summary>A report about no job of ours that verifies: kept for an operator.</summary>
    public sealed record Unmatched(string Kind, string Why) : InboundOutcome(Kind);
}
