using Notifications.Core.Webhooks;

namespace Notifications.Worker.Settling;

/// <summary>The client's signed callback, queued in <c>webhook.send</c> (confirmed) for the webhook sender to deliver.</summary>
public sealed class WebhookAnnouncement(WebhookOutbox webhooks) : IAnnouncementStep
{
    public string Name(Announcement announcement) => "webhook";

    public bool MustConfirm => true;

    public Task AnnounceAsync(Announcement announcement, CancellationToken cancellationToken) =>
        announcement.Webhook is { } webhook && webhooks.Wants(announcement.Client)
            ? webhooks.EnqueueAsync(webhook, cancellationToken)
            : Task.CompletedTask;
}
