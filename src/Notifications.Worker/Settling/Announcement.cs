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

    public OutcomeEvent? Event { get; init; }

    /// <summary>The client's callback; null when the client has none or the outcome is not one to call back about.</summary>
    public WebhookEvent? Webhook { get; init; }
}

/// <summary>An outcome event (a <c>Notifications.Contracts</c> record), published through MassTransit by the event step.</summary>
public sealed record OutcomeEvent(string Name, Func<IOutcomeEvents, CancellationToken, Task> Publish)
{
    public static OutcomeEvent Of<T>(T outcome) where T : class => new(typeof(T).Name, (events, ct) => events.PublishAsync(outcome, ct));
}
