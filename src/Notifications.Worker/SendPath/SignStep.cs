using MimeKit;
using Notifications.Core.Telemetry;
using Notifications.Worker.Signing;

namespace Notifications.Worker.SendPath;

/// <summary>
/// Sign: a mail whose From domain has a key gets a DKIM signature per algorithm (RSA and Ed25519 when the domain has
/// both), <c>relaxed/relaxed</c>, From signed twice so no second From can be added. It runs after every header is
/// set and the message is fixed for the wire (7-bit), so nothing re-encodes what was signed.
/// </summary>
public sealed class SignStep(DkimKeyRing keys, NotificationsTelemetry telemetry, TimeProvider clock) : ISendStep
{
    /// <summary>What is signed, in this order, when the mail has it; From a second time whatever it has.</summary>
    private static readonly string[] Signed =
    [
        "From", "To", "Cc", "Subject", "Date", "Message-ID", "Reply-To", "MIME-Version", "Content-Type",
        "List-Id", "List-Unsubscribe", "List-Unsubscribe-Post", "Feedback-ID", Core.Bounces.InboundHeaders.ReportToken,
    ];

    private static readonly FormatOptions Wire = FormatOptions.Default;

    public Task RunAsync(SendContext context, SendStepDelegate next)
    {
        var message = context.Message ?? throw new InvalidOperationException("no message yet: SignStep runs before BuildStep");
        var domain = message.From.Mailboxes.FirstOrDefault()?.Domain.ToLowerInvariant() ?? "";
        var signing = keys.SigningNow(domain, clock.GetUtcNow());
        if (signing.Count == 0)
        {
            telemetry.DkimUnsigned.Add(1, new KeyValuePair<string, object?>("domain", domain));
            return next(context);
        }
        message.Prepare(EncodingConstraint.SevenBit);
        var headers = HeadersOf(message);
        foreach (var key in signing)
            key.Signer.Sign(Wire, message, headers);
        telemetry.DkimSigned.Add(signing.Count);
        return next(context);
    }

    /// <summary>The headers a signature of this message covers (the benchmark signs with the same list).</summary>
    public static List<string> HeadersOf(MimeMessage message)
    {
        var headers = new List<string>(Signed.Length + 1);
        foreach (var name in Signed)
        {
            var list = name.StartsWith("Content-", StringComparison.OrdinalIgnoreCase) ? message.Body?.Headers : message.Headers;
            if (list?.Contains(name) == true)
                headers.Add(name);
        }
        headers.Insert(1, "From"); // over-signed: a From added later breaks the signature
        return headers;
    }
}
