using Microsoft.Extensions.Options;
using MimeKit.Cryptography;

namespace Notifications.Worker.Signing;

/// <summary>
/// Every configured key, loaded once at start-up (<see cref="DkimOptionsValidator"/> has checked each), and which of a
/// domain's keys sign now: per algorithm, the newest whose <c>NotBefore</c> has passed. A domain with an RSA and an
/// Ed25519 key gets both signatures.
/// </summary>
public sealed class DkimKeyRing
{
    private readonly Dictionary<string, DkimKey[]> _byDomain;

    public DkimKeyRing(IOptions<DkimOptions> options)
    {
        Keys = [.. options.Value.Keys.Select((key, i) => DkimKey.Load(key, $"Dkim:Keys:{i}"))];
        _byDomain = Keys.GroupBy(k => k.Domain, StringComparer.OrdinalIgnoreCase)
            .ToDictionary(g => g.Key, g => g.ToArray(), StringComparer.OrdinalIgnoreCase);
    }

    public IReadOnlyList<DkimKey> Keys { get; }

    public bool HasKeyFor(string domain) => _byDomain.ContainsKey(domain);

    /// <summary>The keys that sign a mail from <paramref name="domain"/> now; empty when it has none yet.</summary>
    public IReadOnlyList<DkimKey> SigningNow(string domain, DateTimeOffset now)
    {
        if (!_byDomain.TryGetValue(domain, out var keys))
            return [];
        List<DkimKey>? signing = null;
        foreach (var algorithm in (ReadOnlySpan<DkimSignatureAlgorithm>)[DkimSignatureAlgorithm.RsaSha256, DkimSignatureAlgorithm.Ed25519Sha256])
        {
            DkimKey? newest = null;
            foreach (var key in keys)
                if (key.Algorithm == algorithm && key.NotBefore <= now && (newest is null || key.NotBefore >= newest.NotBefore))
                    newest = key;
            if (newest is not null)
                (signing ??= []).Add(newest);
        }
        return signing ?? (IReadOnlyList<DkimKey>)[];
    }
}
