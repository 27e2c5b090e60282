using MimeKit;
using Notifications.Core.Bounces;

namespace Notifications.Worker.SendPath;

/// <summary>
/// With <c>Bounces:Domain</c> set, the mail's envelope sender (<c>MAIL FROM</c>, the Return-Path) becomes the job's own
/// <c>b+&lt;token&gt;@&lt;domain&gt;</c>, so a bounce that comes back later names its job; the From header stays as it is.
/// The mail also carries that address in <see cref="InboundHeaders.ReportToken"/>: a feedback loop that sends its
/// complaints to one fixed address quotes the mail, and the token in it is what authenticates the complaint.
/// </summary>
public sealed class ReturnPathStep(ReturnPath returnPath) : ISendStep
{
    public Task RunAsync(SendContext context, SendStepDelegate next)
    {
        if (returnPath.AddressFor(context.RequireJob().Id) is { } address)
        {
            context.Sender = new MailboxAddress("", address);
            // On top, as trace headers go: a submitted message's own headers stay together as written, and one it
            // carried under this name (a forgery) is gone.
            if (context.Message is { } message)
            {
                message.Headers.RemoveAll(InboundHeaders.ReportToken);
                message.Headers.Insert(0, new Header(InboundHeaders.ReportToken, address));
            }
        }
        return next(context);
    }
}
