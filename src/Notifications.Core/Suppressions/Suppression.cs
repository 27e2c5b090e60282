using System.Text.Json;
using System.Text.Json.Serialization;

namespace Notifications.Core.Suppressions;

/// <summary>An address the service does not mail (docs/suppressions.md).</summary>
/// <param name="Address">normalized: trimmed, the domain in lower case (<see cref="SuppressedAddress.Normalize"/>).</param>
/// <param name="Reason">the relay's reply for a bounce; the caller's words for a manual entry.</param>
/// <param name="Source"><see cref="Bounce"/>, <see cref="Manual"/>, <see cref="Unsubscribe"/> or <see cref="Complaint"/>.</param>
/// <param name="Client">the client whose job bounced or who added it; null for an operator's entry or an anonymous caller's.</param>
/// <param name="List">the client's list it left (source <see cref="Unsubscribe"/>): only that list's mail is held back;
/// <see cref="EveryList"/> (a complaint): every mail of that client.</param>
public sealed record Suppression(string Address, string Reason, string Source, string? Client, DateTimeOffset At, string? List = null)
{
    public const string Bounce = "bounce";
    public const string Manual = "manual";
    public const string Unsubscribe = "unsubscribe";

    /// <summary>A spam complaint (ARF): the address is held back from every mail of that client (<see cref="EveryList"/>).</summary>
    public const string Complaint = "complaint";

    /// <summary>The list of an entry that holds back every mail of its client, not one list's.</summary>
    public const string EveryList = "*";

    /// <summary>What an unsubscribe says as its reason (and a job held back by one as its status's reason).</summary>
    public const string Unsubscribed = "unsubscribed";

    /// <summary>
    /// A hard bounce: the address for everyone — but a test client's (simulated) bounce holds it back from that client's
    /// mail only (keyed like a complaint), so test traffic never suppresses an address for a live client.
    /// </summary>
    public static Suppression Bounced(string address, string reason, string? client, DateTimeOffset at, bool test) =>
        new(address, reason, Bounce, client, at, test ? EveryList : null);

    /// <summary>Its key in the store: the address, or for a list the address with the client and list (<see cref="SuppressedAddress.ListKey"/>).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public string Key => List is null ? Address : SuppressedAddress.ListKey(Address, Client, List);
}

/// <summary>One page of the list, and where the next one starts (null: this was the last).</summary>
public sealed record SuppressionPage(IReadOnlyList<Suppression> Items, string? Next);

/// <summary>What to list: a page size, where to start, and filters.</summary>
/// <param name="Client">only entries of this client (null: all).</param>
/// <param name="ReasonContains">only entries whose reason contains this text, without regard to case.</param>
public sealed record SuppressionQuery(string? Cursor = null, int Limit = 100, string? Source = null, string? ReasonContains = null, string? Client = null,
    string? AddressContains = null)
{
    public bool Matches(Suppression entry) =>
        (Source is null || entry.Source == Source)
        && (AddressContains is null || entry.Address.Contains(AddressContains, StringComparison.OrdinalIgnoreCase))
        && (Client is null || entry.Client == Client)
        && (ReasonContains is null || entry.Reason.Contains(ReasonContains, StringComparison.OrdinalIgnoreCase));
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(Suppression))]
public sealed partial class SuppressionJsonContext : JsonSerializerContext;
