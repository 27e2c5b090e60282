using Notifications.Worker.Sending;

namespace Notifications.Worker.SendPath;

/// <summary>How a delivery's way through the send path ended; <see cref="Settlement"/> routes each kind.</summary>
public abstract record JobOutcome
{
    /// <summary>The relay said yes now.</summary>
    public sealed record Sent(SendResult Result, int Attempt) : JobOutcome;

    /// <summary>The relay said yes to an earlier delivery of this job.</summary>
    public sealed record SentBefore : JobOutcome;

    /// <summary>Not a job, or not a valid one: it is poison.</summary>
    public sealed record Invalid(string Reason) : JobOutcome;

    /// <summary>The send (or the build before it) failed; the failure's kind decides retry or DLQ.</summary>
    public sealed record Failed(Exception Error) : JobOutcome;

    /// <summary>Not this job's failure (stopping, a long outage, a long throttle): back to the queue, no attempt spent.</summary>
    public sealed record Returned(string Why) : JobOutcome;

    /// <summary>A scheduled job that was cancelled before it came due.</summary>
    public sealed record Cancelled : JobOutcome;

    /// <summary>Every recipient is suppressed: nothing to send.</summary>
    public sealed record Suppressed(IReadOnlyList<string> Addresses, bool Unsubscribed = false) : JobOutcome;

    public static readonly JobOutcome AlreadySent = new SentBefore();
}
