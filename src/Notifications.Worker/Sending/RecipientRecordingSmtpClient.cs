using MailKit;
using MailKit.Net.Smtp;
using MimeKit;
using Notifications.Core.Store;

namespace Notifications.Worker.Sending;

/// <summary>
/// An SMTP client that lets the relay refuse single recipients: a recipient refused at <c>RCPT TO</c> is recorded and
/// the mail goes to the others, where MailKit would abort the whole transaction. Refusals that are about the relay or
/// its pace, not the recipient (421, throttling), still abort as before, so outages and backpressure work unchanged.
/// </summary>
public sealed class RecipientRecordingSmtpClient : SmtpClient
{
    private readonly List<RefusedRecipient> _refused = [];
    private bool _askForReports;

    /// <summary>Recipients refused in the last send.</summary>
    public IReadOnlyList<RefusedRecipient> Refused => _refused;

    /// <summary>Called before each send: a pooled client serves many mails.</summary>
    /// <param name="askForReports">
    /// the mail has a return path of its own: where the relay offers DSN (RFC 3461), ask for a report of failures and delays
    /// only (<c>NOTIFY=FAILURE,DELAY</c>), with the job id as <c>ENVID</c> so the report names its job even without the return path.
    /// </param>
    public void StartSend(bool askForReports = false)
    {
        _refused.Clear();
        _askForReports = askForReports;
    }

    // MailKit asks these only when the relay's EHLO offers DSN.
    protected override string? GetEnvelopeId(MimeMessage message) =>
        _askForReports && Core.Bounces.ReturnPath.JobIdOfMessageId(message.MessageId) is { } jobId ? jobId : null;

    protected override DeliveryStatusNotification? GetDeliveryStatusNotifications(MimeMessage message, MailboxAddress mailbox) =>
        _askForReports ? DeliveryStatusNotification.Failure | DeliveryStatusNotification.Delay : null;

    protected override void OnRecipientNotAccepted(MimeMessage message, MailboxAddress mailbox, SmtpResponse response)
    {
        if (response.StatusCode == SmtpStatusCode.ServiceNotAvailable
            || SmtpFailure.IsThrottle(new SmtpCommandException(SmtpErrorCode.RecipientNotAccepted, response.StatusCode, mailbox, response.Response)))
        {
            base.OnRecipientNotAccepted(message, mailbox, response);
            return;
        }
        _refused.Add(new RefusedRecipient(mailbox.Address, SmtpFailure.Reply((int)response.StatusCode, response.Response)));
    }

    protected override void OnNoRecipientsAccepted(MimeMessage message) => throw new RecipientsRefusedException([.. _refused]);
}

/// <summary>
/// The relay refused every recipient. Its status is a 4xx when any refusal was temporary (the job may do better later),
/// else the first 5xx, so the failure table classifies it as it would one refusal.
/// </summary>
public sealed class RecipientsRefusedException(IReadOnlyList<RefusedRecipient> refused)
    : SmtpCommandException(SmtpErrorCode.RecipientNotAccepted, StatusOf(refused), Describe(refused))
{
    public IReadOnlyList<RefusedRecipient> Refused => refused;

    private static SmtpStatusCode StatusOf(IReadOnlyList<RefusedRecipient> refused) =>
        (SmtpStatusCode)(refused.Select(r => SmtpFailure.CodeOf(r.Reply)).FirstOrDefault(c => c is >= 400 and < 500) is var temporary and > 0
            ? temporary
            : refused.Select(r => SmtpFailure.CodeOf(r.Reply)).FirstOrDefault(c => c >= 500, 550));

    private static string Describe(IReadOnlyList<RefusedRecipient> refused) =>
        $"every recipient was refused: {string.Join("; ", refused.Select(r => $"{r.Address}: {r.Reply}"))}";
}

/// <summary>What the relay said to one mail: its final reply, and the recipients it refused (the others got it).</summary>
/// <param name="Relay">the relay's host and port, as the message log names it.</param>
/// <param name="Tls">whether the connection the mail went over was encrypted.</param>
public sealed record SendResult(string Reply, IReadOnlyList<RefusedRecipient> Refused, string? Relay = null, bool? Tls = null);
