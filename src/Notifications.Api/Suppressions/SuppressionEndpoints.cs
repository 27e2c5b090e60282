using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Notifications.Api.Clients;
using Notifications.Core.Clients;
using Notifications.Core.Store;
using Notifications.Core.Suppressions;
using Notifications.Core.Telemetry;
using Notifications.Core.Validation;
using Notifications.Core.Contract;

namespace Notifications.Api.Suppressions;

/// <summary>
/// <c>/api/suppressions</c>: the list of addresses the service does not mail. Scope (docs/suppressions.md): a hard
/// bounce and an operator's entry hold the address back for the whole deployment; what a client adds by hand, its
/// complaints and its unsubscribes hold back that client's mail only (all of it, or one list). An operator's client
/// (<c>Clients:&lt;name&gt;:Operator</c>) and, with <c>Auth:Required=false</c>, an anonymous caller see and manage every
/// entry; any other client manages its own, and sees besides the deployment's entries that keep its mail from an
/// address, never who else added what.
/// </summary>
public static partial class SuppressionEndpoints
{
    public const int DefaultPageSize = 100;
    public const int MaxPageSize = 1_000;
    public const int MaxReasonLength = 500;

    public static IEndpointRouteBuilder MapSuppressions(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/suppressions")
            .RequireAuthorization(ClientAuthentication.Policy)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        group.MapGet("/", ListAsync).WithName("ListSuppressions")
            .WithSummary("A page of the suppression list (cursor paging; filters source=bounce|manual|unsubscribe|complaint, reason=text)");
        group.MapGet("/{address}", GetAsync).WithName("GetSuppression")
            .WithSummary("Every entry that keeps your mail from an address, broadest first (with ?list=, that one list's entry); 404 when none does");
        group.MapPut("/{address}", PutAsync).WithName("PutSuppression").Accepts<SuppressionRequest>("application/json")
            .WithSummary("Suppress an address by hand, body {\"reason\"}: for your mail (an operator's: the deployment's); 201 when new, 200 when it was already");
        group.MapDelete("/{address}", DeleteAsync).WithName("DeleteSuppression").WithSummary("Mail an address again: 204, or 404");
        return routes;
    }

    private static async Task<Results<Ok<SuppressionListResponse>, ValidationProblem, ProblemHttpResult>> ListAsync(
        HttpContext http, ClientRegistry clients, ISuppressions suppressions, ILogger<SuppressionRequest> logger,
        string? cursor, int? limit, string? source, string? reason, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        if (limit is < 1 or > MaxPageSize)
            errors["limit"] = [$"limit is 1 to {MaxPageSize}"];
        if (source is not (null or Suppression.Bounce or Suppression.Manual or Suppression.Unsubscribe or Suppression.Complaint))
            errors["source"] = ["source is \"bounce\", \"manual\", \"unsubscribe\" or \"complaint\""];
        if (cursor is { Length: > 320 } || reason is { Length: > MaxReasonLength })
            errors[cursor is { Length: > 320 } ? "cursor" : "reason"] = ["too long"];
        if (errors.Count > 0)
            return TypedResults.ValidationProblem(errors, title: "The query is not valid");
        var caller = http.Client(clients);
        var query = new SuppressionQuery(cursor, limit ?? DefaultPageSize, source, reason, SeesAll(caller) ? null : caller!.Name);
        try
        {
            var page = await suppressions.ListSuppressionsAsync(query, cancellationToken);
            return TypedResults.Ok(new SuppressionListResponse([.. page.Items.Select(e => SuppressionResponse.From(e))], page.Next));
        }
        catch (Exception ex) when (StoreRegistration.IsStoreFailure(ex))
        {
            return StoreUnavailable(logger, ex);
        }
    }

    private static async Task<Results<Ok<SuppressionResponse>, ValidationProblem, ProblemHttpResult>> GetAsync(
        string address, string? list, string? client, HttpContext http, ClientRegistry clients, ISuppressions suppressions,
        ILogger<SuppressionRequest> logger, CancellationToken cancellationToken)
    {
        if (SuppressedAddress.Normalize(address) is not { } plain)
            return NotAnAddress(address);
        var caller = http.Client(clients);
        try
        {
            if (list is not null)
            {
                if (KeyOf(plain, list, client, caller) is not { } key)
                    return NotAList(list);
                return await suppressions.GetSuppressionAsync(key, cancellationToken) is { } entry && Sees(caller, entry)
                    ? TypedResults.Ok(SuppressionResponse.From(entry))
                    : NotSuppressed(plain);
            }
            // One address, one answer: every entry that keeps the caller's mail from it, broadest first.
            var applying = (await suppressions.GetSuppressionsOfAsync(plain, cancellationToken))
                .Where(e => SeesAll(caller) || e.List is null || e.Client == caller!.Name)
                .Select(e => SeesAll(caller) || e.Client == caller!.Name ? e : Anonymous(e)) // whose job bounced is not the caller's to know
                .OrderBy(e => e.List is null ? 0 : e.List == Suppression.EveryList ? 1 : 2).ThenBy(e => e.Client).ThenBy(e => e.List)
                .ToList();
            return applying.Count == 0 ? NotSuppressed(plain) : TypedResults.Ok(SuppressionResponse.From(applying[0], applying));
        }
        catch (Exception ex) when (StoreRegistration.IsStoreFailure(ex))
        {
            return StoreUnavailable(logger, ex);
        }
    }

    private static async Task<Results<Ok<SuppressionResponse>, Created<SuppressionResponse>, ValidationProblem, ProblemHttpResult>> PutAsync(
        string address, HttpContext http, ClientRegistry clients, ISuppressions suppressions, NotificationsTelemetry telemetry, TimeProvider clock,
        ILogger<SuppressionRequest> logger, CancellationToken cancellationToken)
    {
        if (SuppressedAddress.Normalize(address) is not { } key)
            return NotAnAddress(address);
        if (!http.Request.HasJsonContentType())
            return TypedResults.Problem(statusCode: StatusCodes.Status415UnsupportedMediaType, title: "Unsupported media type",
                detail: "Send {\"reason\": \"...\"} as Content-Type: application/json.");
        SuppressionRequest? body;
        try
        {
            body = await JsonSerializer.DeserializeAsync(http.Request.Body, SuppressionRequestJsonContext.Default.SuppressionRequest, cancellationToken);
        }
        catch (JsonException ex)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["body"] = [$"not a valid body ({ex.Path}): {{\"reason\": \"...\"}}"] },
                title: "The suppression is not valid");
        }
        var reasonError = body?.Reason switch
        {
            null or "" => "reason is required",
            { Length: > MaxReasonLength } => $"reason is longer than {MaxReasonLength} characters",
            var text when ControlCharacters.In(text) || text.AsSpan().IndexOfAny('\r', '\n') >= 0 => "reason must be one line without control characters",
            _ => null,
        };
        if (reasonError is not null)
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["reason"] = [reasonError] }, title: "The suppression is not valid");

        var caller = http.Client(clients);
        // An operator's entry belongs to the deployment; a client's holds back that client's mail only (all of it).
        var entry = SeesAll(caller)
            ? new Suppression(key, body!.Reason!, Suppression.Manual, null, clock.GetUtcNow())
            : new Suppression(key, body!.Reason!, Suppression.Manual, caller!.Name, clock.GetUtcNow(), Suppression.EveryList);
        try
        {
            var existing = await suppressions.GetSuppressionAsync(entry.Key, cancellationToken);
            if (SeesAll(caller) && existing is not null)
                entry = entry with { Client = existing.Client };
            await suppressions.AddSuppressionAsync(entry, cancellationToken);
            if (existing is not null)
                return TypedResults.Ok(SuppressionResponse.From(entry));
            return TypedResults.Created(PathOf(key), SuppressionResponse.From(entry));
        }
        catch (Exception ex) when (StoreRegistration.IsStoreFailure(ex))
        {
            return StoreUnavailable(logger, ex);
        }
    }

    private static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> DeleteAsync(
        string address, string? list, string? client, HttpContext http, ClientRegistry clients, ISuppressions suppressions,
        ILogger<SuppressionRequest> logger, CancellationToken cancellationToken)
    {
        if (SuppressedAddress.Normalize(address) is not { } plain)
            return NotAnAddress(address);
        var caller = http.Client(clients);
        if (KeyOf(plain, list, client, caller) is not { } key)
            return NotAList(list!);
        try
        {
            // A client's own entry for all its mail first; then a deployment entry it may lift (a bounce of its own job).
            if (list is null && !SeesAll(caller) && await suppressions.GetSuppressionAsync(SuppressedAddress.ListKey(plain, caller!.Name, Suppression.EveryList),
                    cancellationToken) is { } own)
                key = own.Key;
            if (await suppressions.GetSuppressionAsync(key, cancellationToken) is not { } entry || !Sees(caller, entry))
                return NotSuppressed(plain);
            await suppressions.RemoveSuppressionAsync(key, cancellationToken);
            logger.LogInformation("Suppression of {Address} (list {List}) removed by {Caller}", plain, list ?? "none", caller?.Name ?? "an anonymous caller");
            return TypedResults.NoContent();
        }
        catch (Exception ex) when (StoreRegistration.IsStoreFailure(ex))
        {
            return StoreUnavailable(logger, ex);
        }
    }

    /// <summary>
    /// The store key asked for: the address, or with <c>?list=</c> its entry for that list of the caller's (an operator names
    /// the client with <c>&amp;client=</c>); null when the list name is not one.
    /// </summary>
    private static string? KeyOf(string address, string? list, string? client, Client? caller)
    {
        if (list is null)
            return address;
        // "*": a complaint's entry, which holds back every mail of the client to the address.
        if (list != Suppression.EveryList && !EmailJobValidator.IsListName(list))
            return null;
        return SuppressedAddress.ListKey(address, SeesAll(caller) ? client : caller?.Name, list);
    }

    private static ValidationProblem NotAList(string list) =>
        TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["list"] = [$"'{list}' is not a list name"] }, title: "Not a list");

    public static string PathOf(string address) => "/api/suppressions/" + Uri.EscapeDataString(address);

    private static Suppression Anonymous(Suppression entry) => entry with { Client = null };

    private static bool SeesAll(Client? caller) => caller is null || caller.IsOperator;

    private static bool Sees(Client? caller, Suppression entry) => SeesAll(caller) || entry.Client == caller!.Name;

    private static ValidationProblem NotAnAddress(string address) =>
        TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["address"] = [$"'{JobCodecOneLine(address)}' is not one email address"] },
            title: "Not an address");

    private static string JobCodecOneLine(string text) => Core.Contract.JobCodec.OneLine(text.Length > 100 ? text[..100] + "…" : text);

    private static ProblemHttpResult NotSuppressed(string address) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not suppressed", detail: $"'{address}' is not on your suppression list.");

    /// <summary>A store that does not answer is a 503, never a 500 with its exception.</summary>
    private static ProblemHttpResult StoreUnavailable(ILogger logger, Exception ex)
    {
        logger.LogWarning("Job store unavailable: {Reason}", ex.Message);
        return TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Store unavailable",
            detail: "The job store did not answer; try again later.");
    }
}

/// <summary>The body of a manual suppression.</summary>
public sealed record SuppressionRequest(string? Reason);

/// <summary>Reading a suppression's body as a send request is read: an unknown field or a field given twice is a 400.</summary>
[System.Text.Json.Serialization.JsonSourceGenerationOptions(
    System.Text.Json.JsonSerializerDefaults.Web,
    UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow,
    AllowDuplicateProperties = false)]
[System.Text.Json.Serialization.JsonSerializable(typeof(SuppressionRequest))]
public sealed partial class SuppressionRequestJsonContext : System.Text.Json.Serialization.JsonSerializerContext;

/// <summary>One entry as the API shows it; for an address asked for without a list, every entry that applies.</summary>
/// <param name="Scope"><c>deployment</c> (every client's mail), <c>client</c> (all of that client's mail) or <c>list</c> (one list of it).</param>
/// <param name="Entries">every entry that keeps the caller's mail from the address, broadest first (the first is this one).</param>
public sealed record SuppressionResponse(string Address, string Reason, string Source, string? Client, DateTimeOffset At, string? List = null,
    string Scope = SuppressionResponse.Deployment, IReadOnlyList<SuppressionEntry>? Entries = null)
{
    public const string Deployment = "deployment";

    public static SuppressionResponse From(Suppression entry, IReadOnlyList<Suppression>? all = null) =>
        new(entry.Address, entry.Reason, entry.Source, entry.Client, entry.At, entry.List, ScopeOf(entry), all?.Select(SuppressionEntry.From).ToList());

    public static string ScopeOf(Suppression entry) => entry.List switch
    {
        null => Deployment,
        Suppression.EveryList => "client",
        _ => "list",
    };
}

/// <summary>One of the entries of an address.</summary>
public sealed record SuppressionEntry(string Scope, string Reason, string Source, string? Client, DateTimeOffset At, string? List)
{
    public static SuppressionEntry From(Suppression entry) =>
        new(SuppressionResponse.ScopeOf(entry), entry.Reason, entry.Source, entry.Client, entry.At, entry.List);
}

/// <summary>A page of the list; <c>next</c> is the cursor of the page after it (null: the last page).</summary>
public sealed record SuppressionListResponse(IReadOnlyList<SuppressionResponse> Items, string? Next);
