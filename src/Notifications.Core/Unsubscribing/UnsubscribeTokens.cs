using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace Notifications.Core.Unsubscribing;

/// <summary>
/// The opaque token of a one-click unsubscribe link. It carries client, list and address, encrypted and authenticated
/// (AES-256-GCM under a key derived with HMAC-SHA256 from <c>Unsubscribe:Secret</c>), so nothing is stored per mail and
/// the link shows nothing: URL-safe base64 of version, nonce, ciphertext and tag, about 120 characters for a usual address.
/// </summary>
public sealed class UnsubscribeTokens
{
    /// <summary>Anything longer is not one of ours, whatever it holds: refused before any work.</summary>
    public const int MaxLength = 600;

    private const byte Version = 1;
    private const int NonceSize = 12, TagSize = 16;
    private static readonly byte[] Purpose = "notifications/unsubscribe/v1"u8.ToArray();

    private readonly byte[] _key;
    private readonly IReadOnlyList<(byte[] Key, DateTimeOffset Until)> _previous;
    private readonly TimeProvider _clock;

    public UnsubscribeTokens(IOptions<UnsubscribeOptions> options, TimeProvider clock)
    {
        _key = KeyOf(options.Value.Secret);
        _previous = [.. options.Value.PreviousSecrets.Select(p => (KeyOf(p.Secret), p.Until))];
        _clock = clock;
    }

    public string Mint(ListMembership member)
    {
        var plain = Encoding.UTF8.GetBytes($"{member.Client}\n{member.List}\n{member.Address}");
        var token = new byte[1 + NonceSize + plain.Length + TagSize];
        token[0] = Version;
        var nonce = token.AsSpan(1, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(_key, TagSize);
        aes.Encrypt(nonce, plain, token.AsSpan(1 + NonceSize, plain.Length), token.AsSpan(1 + NonceSize + plain.Length), [Version]);
        return Base64Url.EncodeToString(token);
    }

    /// <summary>The membership a token stands for; false for anything not made with the secret or a previous one still valid.</summary>
    public bool TryRead(string? token, out ListMembership? member)
    {
        member = null;
        if (string.IsNullOrEmpty(token) || token.Length > MaxLength || !Base64Url.IsValid(token))
            return false;
        var bytes = Base64Url.DecodeFromChars(token);
        // One spelling per token: a last character whose unused bits were changed decodes to the same bytes.
        if (bytes.Length < 1 + NonceSize + TagSize + 4 || bytes[0] != Version || Base64Url.EncodeToString(bytes) != token)
            return false;
        var plain = new byte[bytes.Length - 1 - NonceSize - TagSize];
        if (!TryDecrypt(_key, bytes, plain))
        {
            var now = _clock.GetUtcNow();
            if (!_previous.Any(p => p.Until > now && TryDecrypt(p.Key, bytes, plain)))
                return false;
        }
        var parts = Encoding.UTF8.GetString(plain).Split('\n');
        if (parts.Length != 3 || parts[1].Length == 0 || parts[2].Length == 0)
            return false;
        member = new ListMembership(parts[0].Length == 0 ? null : parts[0], parts[1], parts[2]);
        return true;
    }

    private static bool TryDecrypt(byte[] key, byte[] token, byte[] plain)
    {
        using var aes = new AesGcm(key, TagSize);
        try
        {
            aes.Decrypt(token.AsSpan(1, NonceSize), token.AsSpan(1 + NonceSize, plain.Length), token.AsSpan(token.Length - TagSize), plain, [token[0]]);
            return true;
        }
        catch (AuthenticationTagMismatchException)
        {
            return false;
        }
    }

    private static byte[] KeyOf(string secret) => HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Purpose);
}
