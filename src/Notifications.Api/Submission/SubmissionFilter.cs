using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;
using Notifications.Api.Clients;
using Notifications.Core.Contract;
using Notifications.Core.Submission;
using Notifications.Core.Validation;
using SmtpServer;
using SmtpServer.Mail;
using SmtpServer.Protocol;
using SmtpServer.Storage;

namespace Notifications.Api.Submission;

/// <summary>
/// The client's rules at <c>MAIL FROM</c> and <c>RCPT TO</c>, before a byte of the message is read: authenticated
/// (<c>530 5.7.0</c>), not paused (<c>451 4.7.1</c> with the reason), a sender of its own (<c>550 5.7.1</c>), a declared
/// size within the limit (<c>552 5.3.4</c>), a token of its rate (<c>451 4.7.1</c>: one a message, the bucket its HTTP
/// requests draw from), and at most <c>Email:MaxRecipients</c> valid recipients (<c>452 4.5.3</c>, <c>553 5.1.3</c>).
/// </summary>
public sealed class SubmissionFilter(
    PausedClients paused,
    ClientRateBuckets buckets,
    IOptions<SubmissionOptions> options,
    IOptions<EmailOptions> email) : MailboxFilter
{
    private const string RecipientsTaken = "notifications:recipients-taken";

    public override Task<bool> CanAcceptFromAsync(ISessionContext context, IMailbox from, int size, CancellationToken cancellationToken)
    {
        context.Properties[RecipientsTaken] = 0; // MAIL FROM starts a transaction
        if (SubmissionAuthenticator.ClientOf(context) is not { } client)
            throw Reply(530, "5.7.0 Authentication required: AUTH with the client's name and an API key (after STARTTLS)");
        if (paused.ReasonFor(client.Name) is { } pause)
            throw Reply(451, $"4.7.1 Client '{client.Name}' is paused by the reputation guard: {OneLine(pause)}; an operator resumes it");
        var address = from is null || string.IsNullOrEmpty(from.User) ? "" : $"{from.User}@{from.Host}";
        if (address.Length == 0 || !client.MaySendAs(address))
            throw Reply(550, $"5.7.1 '{address}' is not one of client '{client.Name}''s senders (Clients:{client.Name}:AllowedFrom)");
        if (size > options.Value.MaxMessageBytes)
            throw Reply(552, $"5.3.4 Message too big: at most {options.Value.MaxMessageBytes} bytes");
        if (buckets.For(client) is { } bucket)
        {
            using var lease = bucket.AttemptAcquire();
            if (!lease.IsAcquired)
            {
                throw Reply(451, $"4.7.1 Rate limit of client '{client.Name}' reached ({client.RatePerSecond}/s); try again in {ClientRateBuckets.RetryAfterSeconds(lease)} s");
            }
        }
        return Task.FromResult(true);
    }

    public override Task<bool> CanDeliverToAsync(ISessionContext context, IMailbox to, IMailbox from, CancellationToken cancellationToken)
    {
        var taken = context.Properties.TryGetValue(RecipientsTaken, out var count) ? (int)count : 0;
        if (taken >= email.Value.MaxRecipients)
            throw Reply(452, $"4.5.3 Too many recipients: at most {email.Value.MaxRecipients} a message");
        var address = $"{to.User}@{to.Host}";
        if (!EmailAddresses.TryParseMailbox(address, out _, out var error))
            throw Reply(553, $"5.1.3 {OneLine(error!)}");
        context.Properties[RecipientsTaken] = taken + 1;
        return Task.FromResult(true);
    }

    private static SmtpResponseException Reply(int code, string text) => new(new SmtpResponse((SmtpReplyCode)code, text));

    private static string OneLine(string text) => text.ReplaceLineEndings(" ");
}
