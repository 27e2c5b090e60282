using Microsoft.AspNetCore.Http;
using StandardWebhooks;

namespace Notifications.Tests.Infrastructure;

/// <summary>The StandardWebhooks package's own verifier, as a receiver would use it: it throws when a callback does not verify.</summary>
public static class StandardWebhookVerifier
{
    public static void Verify(string secret, WebhookReceiver.Callback callback) =>
        new StandardWebhook(secret).Verify(callback.Body, new HeaderDictionary
        {
            ["webhook-id"] = callback.Id,
            ["webhook-timestamp"] = callback.Timestamp,
            ["webhook-signature"] = callback.Signature,
        });
}
