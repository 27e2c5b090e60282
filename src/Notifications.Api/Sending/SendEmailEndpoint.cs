using Notifications.Api.Status;
using Microsoft.AspNetCore.Http.HttpResults;
using Notifications.Api.Clients;

namespace Notifications.Api.Sending;

/// <summary><c>POST /api/send-email</c>: bind (<see cref="SendEmailBinding"/>) → accept (<see cref="JobIntake"/>) → answer; 202 only once the broker confirmed the job.</summary>
public static class SendEmailEndpoint
{
    /// <summary>The <c>Retry-After</c> of a 429 or 503, in seconds.</summary>
    internal const string RetryAfterSeconds = "5";

    public static IEndpointRouteBuilder MapSendEmail(this IEndpointRouteBuilder routes)
    {
        routes.MapPost("/api/send-email", SendAsync)
            .WithName("SendEmail")
            .WithSummary("Queue an email; 202 once the broker has confirmed it")
            .Accepts<SendEmailRequest>("application/json")
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .RequireAuthorization(ClientAuthentication.Policy)
            .RequireRateLimiting(ClientRateLimiting.Policy);
        return routes;
    }

    private static async Task<Results<Accepted<SendEmailAccepted>, ValidationProblem, ProblemHttpResult>> SendAsync(
        HttpContext http, JobIntake intake, CancellationToken cancellationToken)
    {
        var (mail, body, problem) = await SendEmailBinding.BindAsync(http, intake.MaxRequestBytes, cancellationToken);
        switch (problem)
        {
            case ValidationProblem invalid:
                return invalid;
            case ProblemHttpResult refused:
                return refused;
        }
        var result = await intake.AcceptAsync(http, mail!, body, http.Request.Headers[IdempotencyKey.Header].ToString(), cancellationToken);
        if (MayRetryLater(result))
            http.Response.Headers.RetryAfter = RetryAfterSeconds;
        return result;
    }

    /// <summary>A 429 or 503 of <see cref="JobIntake.AcceptAsync"/>: the answer carries <c>Retry-After</c>.</summary>
    internal static bool MayRetryLater(IResult result) => result switch
    {
        Results<Accepted<SendEmailAccepted>, ValidationProblem, ProblemHttpResult> union => MayRetryLater(union.Result),
        ProblemHttpResult { StatusCode: StatusCodes.Status429TooManyRequests or StatusCodes.Status503ServiceUnavailable } => true,
        _ => false,
    };
}
