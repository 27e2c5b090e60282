using System.Security.Cryptography;
using System.Text;

namespace Notifications.Api.Sending;

/// <summary>
/// The <c>Idempotency-Key</c> request header. A key names one job for good: its id is derived from the
/// key, so every API instance, before or after a restart, answers the same id, and the worker's sent
/// marker keeps the mail from going out twice. A key is scoped to its client (<see cref="Scoped"/>).
/// </summary>
public static class IdempotencyKey
{
    public const string Header = "Idempotency-Key";
    public const int MaxLength = 200;

    public static bool IsValid(string key) => key.Length <= MaxLength && key.All(c => c is >= ' ' and <= '~');

    /// <summary>The key as the store and the job id see it: within its client; an anonymous caller's key as given.</summary>
    public static string Scoped(string key, string? client) => client is null ? key : client + "\n" + key;

    public static string JobId(string key)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes("notifications/idempotency-key\n" + key), hash);
        var bytes = hash[..16];
        bytes[6] = (byte)((bytes[6] & 0x0F) | 0x80); // version 8: a name-based id of our own (RFC 9562)
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80); // variant 10
        return new Guid(bytes, bigEndian: true).ToString();
    }

    public static string Hash(byte[] body) => Convert.ToHexStringLower(SHA256.HashData(body));
}
