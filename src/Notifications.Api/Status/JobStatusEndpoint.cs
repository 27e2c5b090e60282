using Microsoft.AspNetCore.Http.HttpResults;
using Notifications.Api.Clients;
using Notifications.Core.Clients;
using Notifications.Core.Store;

namespace Notifications.Api.Status;

/// <summary><c>GET /api/emails/{id}</c>: the job's last known state and when.</summary>
public static class JobStatusEndpoint
{
    public static string PathOf(string jobId) => "/api/emails/" + Uri.EscapeDataString(jobId);

    /// <summary>
    /// A scheduled job becomes <c>cancelled</c>; it still waits in the broker, and the worker drops it when it comes due
    /// (it checks the status of every scheduled job it receives). A job already queued, sent or cancelled: 409.
    /// </summary>
    private static async Task<Results<Ok<SendEmailAccepted>, ProblemHttpResult>> CancelAsync(string id, HttpContext http, ClientRegistry clients,
        IJobStatuses statuses, Core.MessageLog.MessageLogPublisher messageLog, TimeProvider clock, ILogger<JobStatusResponse> logger,
        CancellationToken cancellationToken)
    {
        try
        {
            var status = await statuses.GetStatusAsync(id, cancellationToken);
            if (status is null || http.Client(clients) is { } caller && status.Client != caller.Name)
                return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown job",
                    detail: $"No job with id '{id}' is known (or it is older than Store:Retention).");
            if (status.Status != JobStatus.Scheduled)
                return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Not scheduled",
                    detail: $"Job '{id}' is {status.Status}: only a job still scheduled can be cancelled.");
            // Only while still scheduled, in one step: a worker taking the job as it comes due changes it first, and then
            // the cancel is too late (409) rather than a "cancelled" for a mail that goes out.
            if (!await statuses.TryChangeStatusAsync(new JobStatus(id, JobStatus.Cancelled, clock.GetUtcNow(), Replays: status.Replays,
                    Client: status.Client), JobStatus.Scheduled, cancellationToken))
            {
                var now = await statuses.GetStatusAsync(id, cancellationToken);
                return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Not scheduled",
                    detail: $"Job '{id}' is {now?.Status ?? "gone"}: it came due while the cancel was on its way; only a job still scheduled can be cancelled.");
            }
            logger.LogInformation("Job {JobId} cancelled while scheduled", id);
            await messageLog.TryPublishAsync([Core.MessageLog.LogEntries.Of(id, status.Client, Core.MessageLog.LogEntryTypes.Cancelled, clock.GetUtcNow(),
                "cancelled", new System.Text.Json.Nodes.JsonObject { ["by"] = "DELETE /api/emails/{id}" })], CancellationToken.None);
            return TypedResults.Ok(new SendEmailAccepted(id, JobStatus.Cancelled));
        }
        catch (Exception ex) when (StoreRegistration.IsStoreFailure(ex))
        {
            logger.LogWarning("Job store unavailable: {Reason}", ex.Message);
            return TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Store unavailable",
                detail: "The job store did not answer; nothing was cancelled. Try again later.");
        }
    }

    public static IEndpointRouteBuilder MapJobStatus(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/api/emails/{id}", async Task<Results<Ok<JobStatusResponse>, ProblemHttpResult>> (string id, HttpContext http, ClientRegistry clients, IJobStatuses statuses,
            ILogger<JobStatusResponse> logger, CancellationToken cancellationToken) =>
        {
            JobStatus? status;
            try
            {
                status = await statuses.GetStatusAsync(id, cancellationToken);
            }
            catch (Exception ex) when (StoreRegistration.IsStoreFailure(ex))
            {
                logger.LogWarning("Job store unavailable: {Reason}", ex.Message);
                return TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Store unavailable",
                    detail: "The job store did not answer; try again later.");
            }
            // Another client's job is as unknown as a job that does not exist: its id says nothing to the caller.
            if (status is not null && http.Client(clients) is { } caller && status.Client != caller.Name)
                status = null;
            return status is null
                ? TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown job",
                    detail: $"No job with id '{id}' is known (or it is older than Store:Retention).")
                : TypedResults.Ok(new JobStatusResponse(status.JobId, status.Status, status.At, status.Attempt, status.Kind, status.Error, status.Recipients));
        })
            .WithName("GetEmailStatus")
            .WithSummary("A job's last known state (404 for an unknown job or another client's)")
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .RequireAuthorization(ClientAuthentication.Policy);
        routes.MapDelete("/api/emails/{id}", CancelAsync)
            .WithName("CancelEmail")
            .WithSummary("Cancel a job that is still scheduled: 200 cancelled (the worker drops it when it comes due), 409 when it is not scheduled")
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .RequireAuthorization(ClientAuthentication.Policy);
        return routes;
    }
}

/// <summary>The answer of the status query; absent fields are null.</summary>
/// <param name="Recipients">recipients rejected by the relay, left out as suppressed, or deferred to a follow-up job.</param>
public sealed record JobStatusResponse(string Id, string Status, DateTimeOffset At, int? Attempt, string? Kind, string? Error,
    RecipientOutcomes? Recipients);
