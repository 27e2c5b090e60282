using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Notifications.Core.Contract;

namespace Notifications.Core.Clients;

/// <summary>The configured clients, and which one a key belongs to.</summary>
public sealed class ClientRegistry
{
    /// <summary>Longer than any key the service hands out (<c>ntf_</c> + 43 base62 characters), short enough to hash cheaply.</summary>
    public const int MaxKeyLength = 200;

    private readonly Dictionary<string, Client> _byName = new(StringComparer.Ordinal);
    private readonly List<(byte[] Hash, Client Client)> _keys = [];

    public ClientRegistry(IOptions<ClientsOptions> options)
    {
        foreach (var (name, client) in options.Value.ByName)
        {
            var senders = client.AllowedFrom
                .Select(sender => EmailAddresses.TryParseMailbox(sender, out var mailbox, out _) ? mailbox!.Address : null)
                .OfType<string>()
                .ToHashSet(StringComparer.OrdinalIgnoreCase);
            var rate = Math.Max(client.RatePerSecond, 0);
            var entry = new Client(name, client.AllowedFrom.FirstOrDefault() ?? "", senders, rate, client.Burst > 0 ? client.Burst : rate, client.Operator,
                client.Webhook is { Url: { Length: > 0 } url, Secret: { } secret } && WebhookSecret.Problem(secret) is null
                    && Uri.TryCreate(url, UriKind.Absolute, out var target)
                    ? new ClientWebhook(target, WebhookSecret.Key(secret))
                    : null,
                client.Mode.Equals(ClientModes.Test, StringComparison.OrdinalIgnoreCase));
            _byName[name] = entry;
            foreach (var hash in client.KeyHashes)
                _keys.Add((Convert.FromHexString(hash), entry));
        }
    }

    public bool IsEmpty => _byName.Count == 0;

    /// <summary>Whether <paramref name="name"/> is a test client (<c>Clients:&lt;name&gt;:Mode=Test</c>).</summary>
    public bool IsTest(string? name) => Find(name)?.IsTest == true;

    /// <summary>
    /// Whether the worker answers for the relay for <paramref name="job"/>: accepted as a test client's, or its client is
    /// one now. The one decision every step that would touch the relay (or its pace) asks.
    /// </summary>
    public bool Simulates(Contract.EmailJob job) => job.IsTest || IsTest(job.Client);

    /// <summary>What an outcome event or callback of <paramref name="name"/>'s says in <c>test</c>: true for a test client, else absent.</summary>
    public bool? TestFlag(string? name) => IsTest(name) ? true : null;

    public IEnumerable<Client> All => _byName.Values;

    public Client? Find(string? name) => name is not null && _byName.TryGetValue(name, out var client) ? client : null;

    /// <summary>
    /// The client whose key this is, or null. The key's hash is compared with every configured hash in constant
    /// time, so neither the answer's timing nor its content says how close a guess was.
    /// </summary>
    public Client? FindByKey(string key)
    {
        if (key.Length is 0 or > MaxKeyLength)
            return null;
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(key), hash);
        Client? found = null;
        foreach (var (known, client) in _keys)
            if (CryptographicOperations.FixedTimeEquals(hash, known))
                found = client;
        return found;
    }

    /// <summary>
    /// A short name of the key a client signed in with (the first 16 hex digits of its hash's hash): a console session
    /// ends when the key it began with is no longer configured. Says nothing usable about the key.
    /// </summary>
    public static string Fingerprint(string key) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(HashOf(key))))[..16];

    /// <summary>Whether this client still has the key of <paramref name="fingerprint"/> (<see cref="Fingerprint"/>).</summary>
    public bool HasKey(Client client, string fingerprint) =>
        _keys.Any(entry => ReferenceEquals(entry.Client, client)
            && Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Convert.ToHexStringLower(entry.Hash))))[..16] == fingerprint);

    /// <summary>The lowercase hex SHA-256 of a key, as <c>Clients:&lt;name&gt;:KeyHashes</c> holds it.</summary>
    public static string HashOf(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));
}
