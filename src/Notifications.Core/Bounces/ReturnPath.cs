using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace Notifications.Core.Bounces;

/// <summary>
/// The envelope sender of each mail, <c>b+&lt;job id&gt;.&lt;mac&gt;@&lt;Bounces:Domain&gt;</c>: a bounce comes back to it and
/// names its job, and the MAC (HMAC-SHA256 under a key derived from <c>Bounces:Secret</c>, 50 bits in 10 base32
/// characters) proves the service made it, so nobody can blame a bounce on a job by guessing the address. Lower case
/// throughout: mail servers may change the case of a local part.
/// </summary>
public sealed class ReturnPath
{
    /// <summary>RFC 5321's limit on a local part.</summary>
    public const int MaxLocalPart = 64;

    private const string Prefix = "b+";
    private const int MacChars = 10;
    private const string Base32 = "abcdefghijklmnopqrstuvwxyz234567";
    private static readonly byte[] Purpose = "notifications/return-path/v1"u8.ToArray();

    private readonly byte[] _key;
    private readonly string _domain;

    public ReturnPath(IOptions<BouncesOptions> options)
    {
        _domain = options.Value.Domain.ToLowerInvariant();
        _key = HMACSHA256.HashData(Encoding.UTF8.GetBytes(options.Value.Secret), Purpose);
    }

    public bool Enabled => _domain.Length > 0;

    public string Domain => _domain;

    /// <summary>The return path of a job; null when bounces are off or the id cannot stand in a local part.</summary>
    public string? AddressFor(string jobId)
    {
        if (!Enabled || !IsTokenSafe(jobId))
            return null;
        var local = $"{Prefix}{jobId.ToLowerInvariant()}.{Mac(jobId.ToLowerInvariant())}";
        return local.Length <= MaxLocalPart ? $"{local}@{_domain}" : null;
    }

    /// <summary>The job a return path names, when it is ours and its MAC verifies; a tampered or foreign address is not.</summary>
    public bool TryReadJobId(string? address, out string jobId)
    {
        jobId = "";
        if (!Enabled || string.IsNullOrEmpty(address) || address.Length > 320)
            return false;
        var at = address.LastIndexOf('@');
        if (at <= 0 || !address.AsSpan(at + 1).Equals(_domain, StringComparison.OrdinalIgnoreCase))
            return false;
        var local = address[..at].ToLowerInvariant();
        var dot = local.LastIndexOf('.');
        if (!local.StartsWith(Prefix, StringComparison.Ordinal) || dot < Prefix.Length + 1 || local.Length - dot - 1 != MacChars)
            return false;
        var id = local[Prefix.Length..dot];
        if (!IsTokenSafe(id))
            return false;
        var expected = Encoding.ASCII.GetBytes(Mac(id));
        if (!CryptographicOperations.FixedTimeEquals(expected, Encoding.ASCII.GetBytes(local[(dot + 1)..])))
            return false;
        jobId = id;
        return true;
    }

    /// <summary>The job id of a returned message's <c>Message-ID</c> (<c>&lt;job id&gt;@&lt;sender's domain&gt;</c>), or null.</summary>
    public static string? JobIdOfMessageId(string? messageId)
    {
        if (string.IsNullOrWhiteSpace(messageId))
            return null;
        var id = messageId.Trim().Trim('<', '>');
        var at = id.IndexOf('@');
        return at > 0 && IsTokenSafe(id[..at]) ? id[..at] : null;
    }

    /// <summary>Letters, digits and dashes (a GUID, a follow-up's <c>-r1</c>): safe in a local part and an ENVID.</summary>
    public static bool IsTokenSafe(string id) =>
        id.Length is > 0 and <= MaxLocalPart && id.All(c => c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '-');

    private string Mac(string id)
    {
        Span<byte> hash = stackalloc byte[32];
        HMACSHA256.HashData(_key, Encoding.ASCII.GetBytes(id), hash);
        // 10 base32 characters: the first 50 bits of the hash.
        var bits = (ulong)hash[0] << 56 | (ulong)hash[1] << 48 | (ulong)hash[2] << 40 | (ulong)hash[3] << 32 | (ulong)hash[4] << 24
            | (ulong)hash[5] << 16 | (ulong)hash[6] << 8 | hash[7];
        Span<char> chars = stackalloc char[MacChars];
        for (var i = 0; i < MacChars; i++)
            chars[i] = Base32[(int)(bits >> (64 - 5 * (i + 1))) & 31];
        return new string(chars);
    }
}
