using System.Globalization;
using Notifications.Core.Clients;
using Notifications.Core.Webhooks;

namespace Notifications.Worker.Webhooks;

/// <summary>Build and sign: the POST a receiver gets, its body as queued and its signature over id, timestamp and body.</summary>
public static class WebhookRequests
{
    public static HttpRequestMessage Build(ClientWebhook webhook, string id, ReadOnlyMemory<byte> body, DateTimeOffset now)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, webhook.Url) { Content = new ReadOnlyMemoryContent(body) };
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(WebhookOutbox.ContentType);
        request.Headers.Add(WebhookSignature.IdHeader, id);
        request.Headers.Add(WebhookSignature.TimestampHeader, now.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture));
        request.Headers.Add(WebhookSignature.SignatureHeader, WebhookSignature.Sign(webhook.Key, id, now, body.Span));
        return request;
    }
}
