using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.HttpResults;
using Notifications.Api.Clients;
using Notifications.Core.Clients;
using Notifications.Core.MessageLog;

namespace Notifications.Api.Messages;

/// <summary>
/// <c>/api/messages</c>: the message log (docs/message-log.md). A client's key sees its own messages; an operator's (and,
/// with <c>Auth:Required=false</c>, an anonymous caller) every client's. Another client's message is as unknown as one
/// that never was (404). A log store that does not answer is a 503; sending is not affected.
/// </summary>
public static partial class MessageEndpoints
{
    public static IEndpointRouteBuilder MapMessages(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/messages")
            .RequireAuthorization(ClientAuthentication.Policy)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        group.MapGet("/", SearchAsync).WithName("SearchMessages")
            .WithSummary("Search the message log, newest first: recipient, from (whole addresses), subject (words), status, list, metadata[key]=value, since, until, client (operators), limit, cursor");
        group.MapGet("/{id}", GetAsync).WithName("GetMessage")
            .WithSummary("One message with its events, oldest first (404 for an unknown id or another client's)");
        group.MapGet("/{id}/content", GetContentAsync).WithName("GetMessageContent")
            .WithSummary("What the message said as sent (text, html, headers) while MessageLog:ContentRetention keeps it; 410 once purged");
        return routes;
    }

    /// <summary>The client whose messages the caller sees; null: every client's.</summary>
    internal static string? ScopeOf(Client? caller) => caller is null || caller.IsOperator ? null : caller.Name;

    private static async Task<Results<Ok<MessageListResponse>, ValidationProblem, ProblemHttpResult>> SearchAsync(HttpContext http,
        ClientRegistry clients, IMessageLog log, ILogger<MessageListResponse> logger, CancellationToken cancellationToken)
    {
        var (query, errors) = MessageQueryBinding.Bind(http.Request.Query, ScopeOf(http.Client(clients)));
        if (query is null)
            return TypedResults.ValidationProblem(errors, title: "The search is not valid");
        try
        {
            var page = await log.SearchAsync(query, cancellationToken);
            return TypedResults.Ok(new MessageListResponse([.. page.Items.Select(MessageItem.Of)],
                page.Next is { } next ? MessageQueryBinding.Cursor.Write(next, query) : null));
        }
        catch (Exception ex) when (MessageLogRegistration.IsStoreFailure(ex))
        {
            return Unavailable(logger, ex);
        }
    }

    private static async Task<Results<Ok<MessageResponse>, ProblemHttpResult>> GetAsync(string id, HttpContext http, ClientRegistry clients,
        IMessageLog log, ILogger<MessageListResponse> logger, CancellationToken cancellationToken)
    {
        try
        {
            return await log.GetAsync(id, ScopeOf(http.Client(clients)), cancellationToken) is { } found
                ? TypedResults.Ok(MessageResponse.Of(found))
                : Unknown(id);
        }
        catch (Exception ex) when (MessageLogRegistration.IsStoreFailure(ex))
        {
            return Unavailable(logger, ex);
        }
    }

    private static async Task<Results<Ok<LoggedContent>, ProblemHttpResult>> GetContentAsync(string id, HttpContext http, ClientRegistry clients,
        IMessageLog log, ILogger<MessageListResponse> logger, CancellationToken cancellationToken)
    {
        try
        {
            var found = await log.GetContentAsync(id, ScopeOf(http.Client(clients)), cancellationToken);
            return found switch
            {
                { Content: { } content } => TypedResults.Ok(content),
                { Known: true } => TypedResults.Problem(statusCode: StatusCodes.Status410Gone, title: "Content purged",
                    detail: $"Message '{id}' is in the log, but what it said is no longer kept (MessageLog:ContentRetention)."),
                _ => Unknown(id),
            };
        }
        catch (Exception ex) when (MessageLogRegistration.IsStoreFailure(ex))
        {
            return Unavailable(logger, ex);
        }
    }

    private static ProblemHttpResult Unknown(string id) => TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown message",
        detail: $"No message with id '{id}' is in the log (or it is older than MessageLog:Retention).");

    internal static ProblemHttpResult Unavailable(ILogger logger, Exception ex)
    {
        LogUnavailable(logger, ex.GetBaseException().Message);
        return TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Message log unavailable",
            detail: "The message log's store did not answer; try again later. Sending is not affected.");
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Message log unavailable: {Reason}")]
    private static partial void LogUnavailable(ILogger logger, string reason);
}

/// <summary>A page of the search; <c>next</c> is the cursor of the next page, null on the last.</summary>
public sealed record MessageListResponse(IReadOnlyList<MessageItem> Items, string? Next);

/// <summary>A message as a search lists it.</summary>
public sealed record MessageItem(
    string Id,
    string? Client,
    string? From,
    IReadOnlyList<string> To,
    IReadOnlyList<string> Cc,
    IReadOnlyList<string> Bcc,
    string? Subject,
    string Status,
    DateTimeOffset AcceptedAt,
    DateTimeOffset LastEventAt,
    string? List,
    IReadOnlyDictionary<string, string>? Metadata)
{
    public static MessageItem Of(MessageSummary m) => new(m.Id, m.Client, m.From, Of(m, "to"), Of(m, "cc"), Of(m, "bcc"), m.Subject, m.Status,
        m.AcceptedAt, m.LastEventAt, m.List, m.Metadata);

    private static List<string> Of(MessageSummary m, string kind) => [.. m.Recipients.Where(r => r.Kind == kind).Select(r => r.Address)];
}

/// <summary>One message with its events, oldest first: each <c>{"type", "at", …}</c> with its details as named fields.</summary>
public sealed record MessageResponse(
    string Id,
    string? Client,
    string? From,
    IReadOnlyList<string> To,
    IReadOnlyList<string> Cc,
    IReadOnlyList<string> Bcc,
    string? Subject,
    string Status,
    DateTimeOffset AcceptedAt,
    DateTimeOffset LastEventAt,
    string? List,
    string? Priority,
    IReadOnlyDictionary<string, string>? Metadata,
    DateTimeOffset? SendAt,
    long? Size,
    bool? Signed,
    string? Via,
    string? FollowUpOf,
    bool ContentKept,
    IReadOnlyList<JsonObject> Events)
{
    public static MessageResponse Of(LoggedMessageView view)
    {
        var item = MessageItem.Of(view.Message);
        var m = view.Message;
        return new MessageResponse(item.Id, item.Client, item.From, item.To, item.Cc, item.Bcc, item.Subject, item.Status, item.AcceptedAt,
            item.LastEventAt, m.List, m.Priority, m.Metadata, m.SendAt, m.Size, m.Signed, m.Via, m.FollowUpOf, m.HasContent,
            [.. view.Events.Select(Event)]);
    }

    private static JsonObject Event(LoggedEvent e)
    {
        var json = new JsonObject { ["type"] = e.Type, ["at"] = e.At };
        foreach (var (name, value) in e.Details ?? [])
            if (name is not ("type" or "at"))
                json[name] = value?.DeepClone();
        return json;
    }
}
