using Notifications.Core.Events;
using Notifications.Core.Store;
using Notifications.Core.Webhooks;

namespace Notifications.Worker.Settling;

/// <summary>
/// What an outcome is announced with, once its route was taken (the copy parked, the relay's 250 recorded): the job's
/// status, the outcome event and the client's webhook. Each follower (<see cref="IAnnouncementStep"/>) takes what is
/// its own and ignores the rest.
/// </summary>
/// <param name="What">the outcome in a few words, for the logs ("sent", "dead-lettered", "a bounce of bob@…").</param>
public sealed record Announcement(string JobId, string? Client, string What)
{
    /// <summary>The job's status to record; null when the route wrote it already (the sent marker carries it).</summary>
    public JobStatus? Status { get; init; }

    /// <summary>The status the route wrote itself (the sent marker carries it), for the followers that tell it without writing it.</summary>
    public JobStatus? WrittenStatus { get; init; }

    public OutcomeEvent? Event { get; init; }

    /// <summary>The client's callback; null when the client has none or the outcome is not one to call back about.</summary>
    public WebhookEvent? Webhook { get; init; }

    /// <summary>The job, when the route has it: the message log's facts (sender, recipients, subject…).</summary>
    public Core.Contract.EmailJob? Job { get; init; }

    /// <summary>Whether the mail went out DKIM-signed, when it was built.</summary>
    public bool? Signed { get; init; }

    /// <summary>The try at the relay this outcome came of, for the message log.</summary>
    public SendPath.RelayAttempt? Attempt { get; init; }

    /// <summary>What the mail said as sent (bodies and headers), for the message log while <c>MessageLog:ContentRetention</c> lasts.</summary>
    public Core.MessageLog.LoggedContent? Content { get; init; }

    /// <summary>Fields the message log's entry of <see cref="Status"/> adds (a retry's queue and due time).</summary>
    public System.Text.Json.Nodes.JsonObject? LogDetails { get; init; }

    /// <summary>Entries for the message log beyond what <see cref="Status"/> says (a bounce, a cancel).</summary>
    public IReadOnlyList<Core.MessageLog.LogEntry>? Log { get; init; }
}

/// <summary>An outcome event (a <c>Notifications.Contracts</c> record), published through MassTransit by the event step.</summary>
public sealed record OutcomeEvent(string Name, Func<IOutcomeEvents, CancellationToken, Task> Publish)
{
    public static OutcomeEvent Of<T>(T outcome) where T : class => new(typeof(T).Name, (events, ct) => events.PublishAsync(outcome, ct));
}
