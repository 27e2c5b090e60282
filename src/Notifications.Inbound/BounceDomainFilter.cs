using Microsoft.Extensions.Options;
using Notifications.Core.Bounces;
using SmtpServer;
using SmtpServer.Mail;
using SmtpServer.Protocol;
using SmtpServer.Storage;

namespace Notifications.Inbound;

/// <summary>
/// Only the return-path domain is served: a recipient anywhere else is <c>550 5.7.1</c>, so the receiver is never a
/// relay; at most <c>Bounces:MaxRecipients</c> in one transaction (<c>452 4.5.3</c> beyond). Any sender is accepted
/// (bounces come from the null sender &lt;&gt;), unless it declares a size above the limit.
/// </summary>
public sealed class BounceDomainFilter(IOptions<BouncesOptions> options) : MailboxFilter
{
    private const string RecipientsTaken = "notifications:recipients-taken";

    private readonly string _domain = options.Value.Domain;

    public override Task<bool> CanAcceptFromAsync(ISessionContext context, IMailbox from, int size, CancellationToken cancellationToken)
    {
        context.Properties[RecipientsTaken] = 0; // MAIL FROM starts a transaction
        if (size > options.Value.MaxMessageBytes)
            throw new SmtpResponseException(new SmtpResponse(SmtpReplyCode.SizeLimitExceeded,
                $"5.3.4 Message too big: at most {options.Value.MaxMessageBytes} bytes"));
        return Task.FromResult(true);
    }

    public override Task<bool> CanDeliverToAsync(ISessionContext context, IMailbox to, IMailbox from, CancellationToken cancellationToken)
    {
        // Every RCPT TO goes into one header of the message on the broker: a bounded number, so the header stays small.
        var taken = context.Properties.TryGetValue(RecipientsTaken, out var count) ? (int)count : 0;
        if (taken >= options.Value.MaxRecipients)
            throw new SmtpResponseException(new SmtpResponse((SmtpReplyCode)452,
                $"4.5.3 Too many recipients: at most {options.Value.MaxRecipients} a message"));
        if (!string.Equals(to.Host, _domain, StringComparison.OrdinalIgnoreCase))
            throw new SmtpResponseException(new SmtpResponse(SmtpReplyCode.MailboxUnavailable,
                $"5.7.1 Relaying denied: only mail for {_domain} is accepted here"));
        context.Properties[RecipientsTaken] = taken + 1;
        return Task.FromResult(true);
    }
}
