namespace Notifications.Core.Clients;

/// <summary>A client's webhook endpoint and signing key. Its text form never shows the key.</summary>
public sealed class ClientWebhook(Uri url, byte[] key)
{
    public Uri Url => url;

    /// <summary>The HMAC key: the secret's bytes after <c>whsec_</c>.</summary>
    public byte[] Key => key;

    /// <summary>What the endpoint's circuit and concurrency are keyed by: scheme, host and port.</summary>
    public string Endpoint => url.GetLeftPart(UriPartial.Authority);

    public override string ToString() => Endpoint;
}
