using System.Text.Json.Nodes;
using Notifications.Core.MessageLog;
using Notifications.Core.Store;

namespace Notifications.Api.Pages.Console;

/// <summary>
/// One message of the log: its facts, its timeline (every event with its details, oldest first), and what it said while
/// that is kept — the text as text, the HTML in a sandboxed frame of its own, the headers as sent. It replaces the job
/// timeline by id.
/// </summary>
public sealed class MessageModel(IMessageLog log, IDeadLetterIndex index, ILogger<MessageModel> logger) : ConsolePage
{
    public LoggedMessageView? View { get; private set; }
    public ContentLookup Said { get; private set; } = ContentLookup.Unknown;
    public bool InDeadLetters { get; private set; }
    public string? Problem { get; private set; }
    public string Id { get; private set; } = "";

    public async Task OnGetAsync(string id, CancellationToken cancellationToken)
    {
        Id = id;
        try
        {
            View = await log.GetAsync(id, null, cancellationToken);
            if (View is not null && View.Message.HasContent)
                Said = await log.GetContentAsync(id, null, cancellationToken);
        }
        catch (Exception ex) when (MessageLogRegistration.IsStoreFailure(ex))
        {
            logger.LogWarning("Message log unavailable to the console: {Reason}", ex.GetBaseException().Message);
            Problem = "The message log's store did not answer; try again in a moment. Sending is not affected.";
        }
        if (View is null)
            Response.StatusCode = Problem is null ? StatusCodes.Status404NotFound : StatusCodes.Status503ServiceUnavailable;
        try
        {
            InDeadLetters = await index.GetDeadLetterAsync(id, cancellationToken) is not null;
        }
        catch (Exception ex) when (StoreRegistration.IsStoreFailure(ex))
        {
            InDeadLetters = false;
        }
    }

    /// <summary>An event's details as an operator reads them: one line per field, recipients one line each.</summary>
    public static IEnumerable<string> Lines(LoggedEvent e)
    {
        foreach (var (name, value) in e.Details ?? [])
        {
            if (value is null)
                continue;
            if (value is JsonArray array)
            {
                foreach (var item in array)
                    yield return item is JsonObject o && o["address"] is { } address
                        ? $"{name}: {address}{(o["reply"] is { } reply ? " — " + reply : "")}"
                        : $"{name}: {item?.ToString()}";
                continue;
            }
            yield return $"{name}: {(value is JsonValue v && v.TryGetValue<string>(out var text) ? text : value.ToJsonString())}";
        }
    }

    public static string Recipients(MessageSummary message, string kind) =>
        string.Join(", ", message.Recipients.Where(r => r.Kind == kind).Select(r => r.Address));
}
