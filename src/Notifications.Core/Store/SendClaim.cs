namespace Notifications.Core.Store;

/// <summary>What a worker learns when it asks to send a job.</summary>
public enum SendClaim
{
    /// <summary>This worker may send it now.</summary>
    Acquired,

    /// <summary>The relay already accepted it: ack without sending again.</summary>
    AlreadySent,

    /// <summary>Another worker is sending it right now.</summary>
    InProgress,
}
