using Microsoft.Extensions.Options;
using Notifications.Core.Suppressions;
using Notifications.Core.Unsubscribing;

namespace Notifications.Worker.SendPath;

/// <summary>
/// List mail (RFC 2919, RFC 8058): <c>List-Id</c>, a one-click <c>List-Unsubscribe</c> link with an opaque token, and
/// <c>List-Unsubscribe-Post</c>. Before signing, so the signature covers them.
/// </summary>
public sealed class ListHeadersStep(UnsubscribeTokens tokens, IOptions<UnsubscribeOptions> options) : ISendStep
{
    private readonly string _baseUrl = options.Value.BaseUrl.TrimEnd('/');

    public Task RunAsync(SendContext context, SendStepDelegate next)
    {
        var job = context.RequireJob();
        if (job.List is { } list && context.Message is { } message)
        {
            var address = SuppressedAddress.Normalize(job.To[0]) ?? throw new FormatException("a list mail's one recipient is not an address");
            var domain = message.From.Mailboxes.First().Domain.ToLowerInvariant();
            // On top, in this order, so a submitted message's own headers stay together as written.
            message.Headers.Insert(0, new MimeKit.Header("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"));
            message.Headers.Insert(0, new MimeKit.Header("List-Unsubscribe", $"<{_baseUrl}/unsubscribe/{tokens.Mint(new ListMembership(job.Client, list, address))}>"));
            message.Headers.Insert(0, new MimeKit.Header("List-Id", $"<{list}.{job.Client ?? "default"}.{domain}>"));
        }
        return next(context);
    }
}
