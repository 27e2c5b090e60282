using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Notifications.Api.Clients;
using Notifications.Core.Clients;
using Notifications.Core.DeadLetters;
using Notifications.Core.MessageLog;
using Notifications.Core.Store;

namespace Notifications.Api.Erasures;

/// <summary><c>POST /api/erasures</c>: an operator forgets an address (docs/message-log.md, "Erasure").</summary>
public static class ErasureEndpoint
{
    public static IEndpointRouteBuilder MapErasures(this IEndpointRouteBuilder routes)
    {
        routes.MapPost("/api/erasures", EraseAsync)
            .WithName("EraseAddress")
            .WithSummary("Remove an address from the message log, the job statuses and the dead letters (operator key); answers what was removed, zeros when repeated")
            .Accepts<ErasureRequest>("application/json")
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .RequireAuthorization(ClientAuthentication.Policy);
        return routes;
    }

    private static async Task<Results<Ok<ErasureResponse>, ValidationProblem, ProblemHttpResult>> EraseAsync(HttpContext http, ClientRegistry clients,
        Erasure erasure, ILogger<ErasureRequest> logger, CancellationToken cancellationToken)
    {
        if (http.Client(clients) is { IsOperator: false })
            return TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Operators only",
                detail: "An erasure removes every client's records of an address: it takes an operator's key (Clients:<name>:Operator).");
        ErasureRequest? request;
        try
        {
            request = await JsonSerializer.DeserializeAsync<ErasureRequest>(http.Request.Body, JsonSerializerOptions.Web, cancellationToken);
        }
        catch (JsonException ex)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["body"] = [$"the body is not {{\"address\": \"…\"}}: {ex.Message}"] },
                title: "The request is not valid");
        }
        if (LogAddresses.Normalize(request?.Address) is not { } address)
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["address"] = ["address is one whole address, like bob@example.com"] },
                title: "The request is not valid");
        try
        {
            return TypedResults.Ok(await erasure.EraseAsync(address, cancellationToken));
        }
        catch (Exception ex) when (ex is DlqFailure || MessageLogRegistration.IsStoreFailure(ex) || StoreRegistration.IsStoreFailure(ex)
            || Core.Broker.BrokerConnection.IsBrokerUnavailable(ex))
        {
            logger.LogWarning("Erasure not finished: {Reason}", ex.GetBaseException().Message);
            return TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Erasure not finished",
                detail: $"{ex.GetBaseException().Message}. What was done stays done; repeat the request to finish.");
        }
    }
}
