using Notifications.Api.Console;
using Notifications.Core.DeadLetters;
using Notifications.Core.Store;

namespace Notifications.Api.Pages.Console.DeadLetters;

/// <summary>
/// Dead letters grouped by kind, reason, recipient domain and client, with a text search (recipient, subject, job id,
/// error) and filters; the letters themselves a page at a time, newest first. Every figure is the index's, read from memory.
/// </summary>
public sealed class IndexModel(DeadLetterView view) : ConsolePage
{
    public const int PageSize = 50;

    /// <summary>The client filter's value for letters of no client (an anonymous caller's).</summary>
    public const string NoClient = "(none)";

    public DeadLetterFilter Filter { get; private set; } = new();
    public IReadOnlyList<DeadLetterView.Group> Groups { get; private set; } = [];
    public IReadOnlyList<DeadLetterEntry> Letters { get; private set; } = [];
    public int Matching { get; private set; }
    public int Total { get; private set; }
    public int PageNumber { get; private set; }
    public bool Stale { get; private set; }

    /// <summary>The API started a moment ago and is still reading the index: the page says so and reloads itself.</summary>
    public bool Loading { get; private set; }
    public IReadOnlyList<string> Kinds { get; private set; } = [];
    public IReadOnlyList<string> Clients { get; private set; } = [];

    public async Task OnGetAsync(string? kind, string? reason, string? domain, string? client, string? q, int page = 1,
        CancellationToken cancellationToken = default)
    {
        Filter = FilterOf(kind, reason, domain, client, q);
        var snapshot = await view.CurrentAsync(cancellationToken);
        Total = snapshot.Entries.Count;
        Stale = snapshot.Stale;
        Loading = snapshot.Loading;
        var matching = Filter.IsEmpty ? snapshot.Entries : snapshot.Entries.Where(Filter.Matches).ToList();
        Matching = matching.Count;
        Groups = Filter.IsEmpty ? snapshot.Groups : DeadLetterView.GroupsOf(matching);
        PageNumber = Math.Clamp(page, 1, Math.Max(1, (Matching + PageSize - 1) / PageSize));
        Letters = matching.Skip((PageNumber - 1) * PageSize).Take(PageSize).ToList();
        Kinds = snapshot.Kinds;
        Clients = snapshot.Clients;
    }

    public static DeadLetterFilter FilterOf(string? kind, string? reason, string? domain, string? client, string? q, string? id = null) =>
        new(Clean(kind), Clean(reason), Clean(domain)?.TrimStart('@').ToLowerInvariant(), Clean(client) is { } c ? (c == NoClient ? "" : c) : null,
            Clean(q), Clean(id));

    /// <summary>The query string of a filter (and an action), for links.</summary>
    public static string Query(DeadLetterFilter filter, string? action = null, int? page = null)
    {
        var parts = new List<string>();
        void Add(string name, string? value)
        {
            if (value is not null)
                parts.Add($"{name}={Uri.EscapeDataString(value)}");
        }
        Add("action", action);
        Add("kind", filter.Kind);
        Add("reason", filter.Reason);
        Add("domain", filter.Domain);
        Add("client", filter.Client is { Length: 0 } ? NoClient : filter.Client);
        Add("q", filter.Text);
        Add("id", filter.Id);
        if (page is > 1)
            Add("page", page.Value.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return parts.Count == 0 ? "" : "?" + string.Join("&", parts);
    }
}
