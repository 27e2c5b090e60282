using Notifications.Api.Messages;
using Notifications.Core.MessageLog;

namespace Notifications.Api.Pages.Console;

/// <summary>
/// The message log's search (docs/message-log.md): the API's filters, read by the same binding (a bad one is shown, named,
/// instead of a search for something else), newest first, a page at a time. An operator sees every client's messages.
/// </summary>
public sealed class MessagesModel(IMessageLog log, ILogger<MessagesModel> logger) : ConsolePage
{
    public const int PageSize = 50;

    public IQueryCollection Filters => Request.Query;
    public MessagePage Results { get; private set; } = new([], null);
    public string? NextCursor { get; private set; }
    public IReadOnlyList<string> Problems { get; private set; } = [];
    public bool Searched { get; private set; }

    public string? Value(string name) => Request.Query.TryGetValue(name, out var value) ? value.ToString() : null;

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        // Empty fields of the form are no filter; a metadata key without a value neither.
        var query = Request.Query.Where(p => !string.IsNullOrWhiteSpace(p.Value) && p.Key is not ("metaKey" or "metaValue"))
            .ToDictionary(p => p.Key, p => p.Value);
        if (Value("metaKey") is { Length: > 0 } key && Value("metaValue") is { Length: > 0 } value)
            query[$"metadata[{key}]"] = value;
        if (!query.ContainsKey("limit"))
            query["limit"] = PageSize.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var (bound, errors) = MessageQueryBinding.Bind(new QueryCollection(query), scope: null);
        if (bound is null)
        {
            Problems = [.. errors.SelectMany(e => e.Value)];
            return;
        }
        Searched = true;
        try
        {
            Results = await log.SearchAsync(bound, cancellationToken);
            NextCursor = Results.Next is { } next ? MessageQueryBinding.Cursor.Write(next, bound) : null;
        }
        catch (Exception ex) when (MessageLogRegistration.IsStoreFailure(ex))
        {
            logger.LogWarning("Message log unavailable to the console: {Reason}", ex.GetBaseException().Message);
            Problems = ["The message log's store did not answer; try again in a moment. Sending is not affected."];
        }
    }

    /// <summary>The link to the next page: these filters and its cursor.</summary>
    public string NextLink()
    {
        var query = Request.Query.Where(p => p.Key != "cursor").Select(p => $"{Uri.EscapeDataString(p.Key)}={Uri.EscapeDataString(p.Value.ToString())}");
        return "/console/messages?" + string.Join('&', query.Append("cursor=" + Uri.EscapeDataString(NextCursor!)));
    }

    public static string To(MessageSummary message) =>
        string.Join(", ", message.Recipients.Where(r => r.Kind == "to").Select(r => r.Address)) is { Length: > 0 } to ? to : "(none)";
}
