using Microsoft.Extensions.Options;
using Notifications.Core.Bounces;
using SmtpServer;
using SmtpServer.Mail;
using SmtpServer.Protocol;
using SmtpServer.Storage;

namespace Notifications.Inbound;

/// <summary>
/// Only the return-path domain is served: a recipient anywhere else is <c>550 5.7.1</c>, so the receiver is never a
/// relay. Any sender is accepted (bounces come from the null sender &lt;&gt;), unless it declares a size above the limit.
/// </summary>
public sealed class BounceDomainFilter(IOptions<BouncesOptions> options) : MailboxFilter
{
    private readonly string _domain = options.Value.Domain;

    public override Task<bool> CanAcceptFromAsync(ISessionContext context, IMailbox from, int size, CancellationToken cancellationToken)
    {
        if (size > options.Value.MaxMessageBytes)
            throw new SmtpResponseException(new SmtpResponse(SmtpReplyCode.SizeLimitExceeded,
                $"5.3.4 Message too big: at most {options.Value.MaxMessageBytes} bytes"));
        return Task.FromResult(true);
    }

    public override Task<bool> CanDeliverToAsync(ISessionContext context, IMailbox to, IMailbox from, CancellationToken cancellationToken)
    {
        if (!string.Equals(to.Host, _domain, StringComparison.OrdinalIgnoreCase))
            throw new SmtpResponseException(new SmtpResponse(SmtpReplyCode.MailboxUnavailable,
                $"5.7.1 Relaying denied: only mail for {_domain} is accepted here"));
        return Task.FromResult(true);
    }
}
