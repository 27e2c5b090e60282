using Notifications.Core.Store;
namespace Notifications.Core.DeadLetters;

/// <summary>
/// Which dead letters an operator means: a group (kind, reason, recipient domain, client; any left empty matches all),
/// narrowed by a text search, or one id. The console lists, counts, replays and deletes by it; the DLQ's own letters are
/// matched by it too (<see cref="Matches(DeadLetter, DateTimeOffset)"/>), so an action takes what the queue holds, not
/// what the index last said.
/// </summary>
public sealed record DeadLetterFilter(
    string? Kind = null,
    string? Reason = null,
    string? Domain = null,
    string? Client = null,
    string? Text = null,
    string? Id = null)
{
    public bool IsEmpty => Kind is null && Reason is null && Domain is null && Client is null && Text is null && Id is null;

    public bool Matches(DeadLetterEntry entry) =>
        (Id is null || entry.Id == Id)
        && (Kind is null || entry.Kind == Kind)
        && (Reason is null || entry.Reason == Reason)
        && (Domain is null || string.Equals(entry.Domain, Domain, StringComparison.OrdinalIgnoreCase))
        && (Client is null || entry.Client == Client)
        && (Text is null || entry.Mentions(Text));

    public bool Matches(DeadLetter letter, DateTimeOffset now) =>
        (Id is null || letter.Id == Id) && Matches(DeadLetterIndexing.Entry(letter, now));

    /// <summary>The filter as an operator reads it ("kind transient, domain example.org, text "bob"").</summary>
    public string Describe()
    {
        var parts = new List<string>();
        if (Id is not null)
            parts.Add($"id {Id}");
        if (Kind is not null)
            parts.Add($"kind {Kind}");
        if (Reason is not null)
            parts.Add($"reason \"{Reason}\"");
        if (Domain is not null)
            parts.Add($"domain {Domain}");
        if (Client is not null)
            parts.Add(Client.Length == 0 ? "no client" : $"client {Client}");
        if (Text is not null)
            parts.Add($"text \"{Text}\"");
        return parts.Count == 0 ? "every dead letter" : string.Join(", ", parts);
    }
}
