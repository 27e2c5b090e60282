namespace Notifications.Core.Clients;

/// <summary>A client's webhook endpoint and signing key. Its text form never shows the key.</summary>
public sealed class ClientWebhook(Uri url, byte[] key)
{
    public Uri Url => url;

    /// <summary>The HMAC key: the secret's bytes after <c>whsec_</c>.</summary>
    public byte[] Key => key;

    /// <summary>What the endpoint's circuit and concurrency are keyed by: scheme, host and port.</summary>
    // Scheme, host and port only: a URL's user:password (https://u:p@host/hook) never reaches a log line, a circuit's name or
    // the message log's webhook entries, which clients read.
    public string Endpoint => url.GetComponents(UriComponents.SchemeAndServer, UriFormat.UriEscaped);

    public override string ToString() => Endpoint;
}
