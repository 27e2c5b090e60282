namespace Notifications.Core.Clients;

/// <summary>One client of the API (<c>Clients:&lt;name&gt;</c>): its keys, senders and rate.</summary>
public sealed class ClientOptions
{
    /// <summary>Lowercase hex SHA-256 of each key's UTF-8 bytes; one, or two while a key is rotated.</summary>
    public List<string> KeyHashes { get; set; } = [];

    /// <summary>The senders its jobs may name; the first is its default <c>from</c>.</summary>
    public List<string> AllowedFrom { get; set; } = [];

    /// <summary>Jobs a second it may send on average (a token bucket); 0 = no limit.</summary>
    public int RatePerSecond { get; set; }

    /// <summary>Jobs it may send at once above its rate; 0 = the same as <see cref="RatePerSecond"/>.</summary>
    public int Burst { get; set; }

    /// <summary>An operator's client: it sees and manages every suppression, not only its own.</summary>
    public bool Operator { get; set; }

    /// <summary>Where its jobs' outcomes are POSTed, signed with its secret; none when not set.</summary>
    public WebhookTargetOptions? Webhook { get; set; }

    /// <summary>
    /// <c>Live</c> (the default) or <c>Test</c>: a test client's mail goes through everything but the relay — the worker
    /// answers for it, simulating outcomes for the simulator's addresses (docs/test-mode.md).
    /// </summary>
    public string Mode { get; set; } = ClientModes.Live;

    /// <summary>Its own limits for the reputation guard, over those of the <c>Reputation</c> section.</summary>
    public ReputationOverride? Reputation { get; set; }
}

/// <summary>The values of <c>Clients:&lt;name&gt;:Mode</c>.</summary>
public static class ClientModes
{
    public const string Live = "Live";
    public const string Test = "Test";

    /// <summary>The metric tag of traffic: <c>live</c> or <c>test</c>.</summary>
    public static string Tag(bool test) => test ? "test" : "live";
}

/// <summary><c>Clients:&lt;name&gt;:Webhook</c>.</summary>
public sealed class WebhookTargetOptions
{
    /// <summary>An absolute https URL (http only to loopback, unless <c>Webhooks:AllowHttp</c>).</summary>
    public string? Url { get; set; }

    /// <summary><c>whsec_</c> + base64 of 24–64 random bytes; never logged.</summary>
    public string? Secret { get; set; }
}

/// <summary>The <c>Clients</c> section: every client by name.</summary>
public sealed class ClientsOptions
{
    public const string Section = "Clients";

    public Dictionary<string, ClientOptions> ByName { get; } = new(StringComparer.Ordinal);
}
