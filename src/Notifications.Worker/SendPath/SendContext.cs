using MimeKit;
using Notifications.Core.Contract;
using Notifications.Worker.Recipients;
using Notifications.Worker.Transport;

namespace Notifications.Worker.SendPath;

/// <summary>One delivery on its way through the <see cref="SendPath"/>: what the steps learned so far, and how it ended.</summary>
public sealed class SendContext(Delivery delivery, CancellationToken holdsAborted, CancellationToken sendsAborted)
{
    public Delivery Delivery { get; } = delivery;

    /// <summary>Cancelled at shutdown: a job waiting (for a turn, a slot, the relay) goes back to the queue at once.</summary>
    public CancellationToken HoldsAborted { get; } = holdsAborted;

    /// <summary>Cancelled once the shutdown grace period is over: a send in flight is abandoned.</summary>
    public CancellationToken SendsAborted { get; } = sendsAborted;

    /// <summary>The job, once decoded and valid.</summary>
    public EmailJob? Job { get; set; }

    /// <summary>Who is sent to and who is suppressed, once the recipients are filtered.</summary>
    public Envelope? Envelope { get; set; }

    /// <summary>The message for the wire, once built.</summary>
    public MimeMessage? Message { get; set; }

    /// <summary>The envelope's recipients when some were left out (null: everyone in the message's headers).</summary>
    public IReadOnlyList<MailboxAddress>? Mailboxes { get; set; }

    /// <summary>The envelope sender (<c>MAIL FROM</c>) when it is not the message's own sender: the job's return path.</summary>
    public MailboxAddress? Sender { get; set; }

    /// <summary>Whether this worker holds the job's send claim right now.</summary>
    public bool HoldsClaim { get; set; }

    /// <summary>The last try at the relay, for the message log: set by <see cref="SendStep"/> whether the relay said yes or no.</summary>
    public RelayAttempt? Attempt { get; set; }

    /// <summary>How the path ended; <see cref="JobOutcome"/> decides the delivery's route from it.</summary>
    public JobOutcome? Outcome { get; set; }

    public EmailJob RequireJob() => Job ?? throw new InvalidOperationException("no job decoded yet: a step runs before DecodeStep");
    public Envelope RequireEnvelope() => Envelope ?? throw new InvalidOperationException("no envelope yet: a step runs before RecipientStep");
}
