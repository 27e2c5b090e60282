using Notifications.Core.Store;

namespace Notifications.Worker.Settling;

/// <summary>The job's status in the store, written where the outcome happened; best effort (the job is safe either way).</summary>
public sealed class StatusAnnouncement(IJobStatuses statuses) : IAnnouncementStep
{
    public string Name(Announcement announcement) => "status";

    public bool MustConfirm => false;

    public Task AnnounceAsync(Announcement announcement, CancellationToken cancellationToken) =>
        announcement.Status is { } status ? statuses.SetStatusAsync(status, cancellationToken) : Task.CompletedTask;
}
