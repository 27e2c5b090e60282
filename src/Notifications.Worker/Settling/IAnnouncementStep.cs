namespace Notifications.Worker.Settling;

/// <summary>
/// One thing that follows every outcome. A new follower is one class implementing this, registered in
/// <see cref="SettlingRegistration.AddSettling"/>; the <see cref="Announcer"/> runs them in the order registered.
/// </summary>
public interface IAnnouncementStep
{
    /// <summary>What it announces, for the logs ("EmailSent event", "webhook", "status").</summary>
    string Name(Announcement announcement);

    /// <summary>
    /// True: it must be confirmed before the delivery is settled, so it is tried again (the announcer's resilience
    /// pipeline) while the delivery is held. False: best effort; a store that does not answer costs only this.
    /// </summary>
    bool MustConfirm { get; }

    /// <summary>Announces, or does nothing when the announcement has nothing for this step.</summary>
    Task AnnounceAsync(Announcement announcement, CancellationToken cancellationToken);
}
