using Notifications.Core.Events;

namespace Notifications.Worker.Settling;

/// <summary>The outcome event (<c>EmailSent</c>, <c>EmailDeadLettered</c>, …), confirmed by the broker.</summary>
public sealed class EventAnnouncement(IOutcomeEvents events) : IAnnouncementStep
{
    public string Name(Announcement announcement) => (announcement.Event?.Name ?? "outcome") + " event";

    public bool MustConfirm => true;

    public Task AnnounceAsync(Announcement announcement, CancellationToken cancellationToken) =>
        announcement.Event?.Publish(events, cancellationToken) ?? Task.CompletedTask;
}
