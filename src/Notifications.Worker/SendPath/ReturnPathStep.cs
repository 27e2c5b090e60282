using MimeKit;
using Notifications.Core.Bounces;

namespace Notifications.Worker.SendPath;

/// <summary>
/// With <c>Bounces:Domain</c> set, the mail's envelope sender (<c>MAIL FROM</c>, the Return-Path) becomes the job's own
/// <c>b+&lt;token&gt;@&lt;domain&gt;</c>, so a bounce that comes back later names its job; the From header stays as it is.
/// </summary>
public sealed class ReturnPathStep(ReturnPath returnPath) : ISendStep
{
    public Task RunAsync(SendContext context, SendStepDelegate next)
    {
        if (returnPath.AddressFor(context.RequireJob().Id) is { } address)
            context.Sender = new MailboxAddress("", address);
        return next(context);
    }
}
