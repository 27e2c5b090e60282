namespace Notifications.Core.Clients;

/// <summary>
/// A client's signing secret as Standard Webhooks spells it: <c>whsec_</c> and the base64 of 24 to 64 random bytes.
/// The bytes after the prefix are the HMAC key. It is never logged, answered or put in an event.
/// </summary>
public static class WebhookSecret
{
    public const string Prefix = "whsec_";

    /// <returns>why it is not a secret, or null.</returns>
    public static string? Problem(string? secret)
    {
        if (string.IsNullOrEmpty(secret))
            return "is required with Webhook:Url (make one: echo whsec_$(openssl rand -base64 32))";
        if (!secret.StartsWith(Prefix, StringComparison.Ordinal))
            return $"must start with {Prefix} (the Standard Webhooks form)";
        var bytes = TryDecode(secret);
        return bytes is null ? $"must be {Prefix} followed by base64" : bytes.Length is < 24 or > 64 ? "must hold 24 to 64 bytes after the prefix" : null;
    }

    /// <summary>The HMAC key of a secret that passed <see cref="Problem"/>.</summary>
    public static byte[] Key(string secret) => TryDecode(secret) ?? throw new FormatException("not a webhook secret");

    private static byte[]? TryDecode(string secret)
    {
        var encoded = secret[Prefix.Length..];
        var buffer = new byte[encoded.Length];
        return Convert.TryFromBase64String(encoded, buffer, out var written) ? buffer[..written] : null;
    }

    /// <summary>A new secret: 32 random bytes.</summary>
    public static string New() => Prefix + Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
}
