using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Notifications.Api.Backpressure;
using Notifications.Core.Broker;
using Notifications.Core.Contract;
using Notifications.Core.Topology;
using Notifications.Core.Validation;
using Serilog.Context;

namespace Notifications.Api.Sending;

/// <summary><c>POST /api/send-email</c>: validate, publish with a confirm, and only then answer 202.</summary>
public static partial class SendEmailEndpoint
{
    private const string RetryAfterSeconds = "5";

    public static IEndpointRouteBuilder MapSendEmail(this IEndpointRouteBuilder routes)
    {
        routes.MapPost("/api/send-email", SendAsync);
        return routes;
    }

    private static async Task<IResult> SendAsync(
        HttpContext http,
        EmailJobValidator validator,
        ConfirmedPublisher publisher,
        QueueDepthMonitor queueDepth,
        IOptions<EmailOptions> emailOptions,
        ILoggerFactory loggers,
        CancellationToken cancellationToken)
    {
        var email = emailOptions.Value;
        var request = http.Request;
        if (!request.HasJsonContentType())
            return TypedResults.Problem(statusCode: StatusCodes.Status415UnsupportedMediaType,
                title: "Unsupported media type", detail: "Send the job as Content-Type: application/json.");
        if (request.ContentLength > email.MaxRequestBytes)
            return TooLarge(email.MaxRequestBytes);
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeLimit)
            sizeLimit.MaxRequestBodySize = email.MaxRequestBytes;

        var (job, readError) = await ReadJobAsync(request, cancellationToken);
        if (readError is not null)
            return readError;

        var errors = validator.ValidateRequest(job!);
        if (job!.Id is not null)
            errors["id"] = ["id is assigned by the service"];
        if (job.CreatedAt is not null)
            errors["createdAt"] = ["createdAt is assigned by the service"];
        if (errors.Count > 0)
            return TypedResults.ValidationProblem(errors, title: "The email job is not valid");

        if (queueDepth.IsOverLimit)
        {
            http.Response.Headers.RetryAfter = RetryAfterSeconds;
            return TypedResults.Problem(statusCode: StatusCodes.Status429TooManyRequests, title: "Too many queued jobs",
                detail: $"{queueDepth.Depth} jobs are waiting; try again later.");
        }

        job = job with
        {
            Id = Guid.CreateVersion7().ToString(),
            CreatedAt = DateTimeOffset.UtcNow,
            From = job.From ?? email.DefaultFrom,
        };
        var logger = loggers.CreateLogger(typeof(SendEmailEndpoint));
        using var jobScope = LogContext.PushProperty("JobId", job.Id);
        try
        {
            await publisher.PublishAsync(TopologyNames.SendKey, JobProperties.ForNewJob(job), JobCodec.Encode(job), cancellationToken);
        }
        catch (PublishFailedException ex)
        {
            logger.LogWarning("Job {JobId} not accepted: {Reason}", job.Id, ex.Message);
            http.Response.Headers.RetryAfter = RetryAfterSeconds;
            return TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Queue unavailable",
                detail: "The job could not be stored safely: " + ex.Message);
        }
        logger.LogDebug("Job {JobId} queued for {RecipientCount} recipients", job.Id, job.AllRecipients().Count());
        return TypedResults.Accepted((string?)null, new SendEmailAccepted(job.Id, "queued"));
    }

    private static async Task<(EmailJob? Job, IResult? Error)> ReadJobAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        try
        {
            var job = await JsonSerializer.DeserializeAsync(request.Body, JobJsonContext.Default.EmailJob, cancellationToken);
            return job is null
                ? (null, BodyError("body", "the body must be a JSON object"))
                : (job, null);
        }
        catch (JsonException ex)
        {
            var field = ex.Path is null or "$" ? "body" : ex.Path.TrimStart('$', '.');
            return (null, BodyError(field, DescribeJsonError(ex)));
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return (null, TooLarge(request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>()?.MaxRequestBodySize));
        }
    }

    private static ValidationProblem BodyError(string field, string message) =>
        TypedResults.ValidationProblem(new Dictionary<string, string[]> { [field] = [message] },
            title: "The body is not a valid email job");

    private static ProblemHttpResult TooLarge(long? limit) =>
        TypedResults.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: "Request too large",
            detail: $"The body is larger than {limit} bytes (Email:MaxRequestBytes).");

    /// <summary>The serializer's message without .NET type names, which mean nothing to a client.</summary>
    private static string DescribeJsonError(JsonException ex)
    {
        var unknown = UnknownMember().Match(ex.Message);
        if (unknown.Success)
            return $"unknown field '{unknown.Groups[1].Value}'";
        var message = ex.Message.Split(" Path:", 2)[0];
        return TypeName().Replace(message, "a value of the right type");
    }

    [GeneratedRegex("The JSON property '([^']*)' could not be mapped")]
    private static partial Regex UnknownMember();

    [GeneratedRegex(@"System\.[A-Za-z0-9_.`\[\]]+|Notifications\.[A-Za-z0-9_.]+")]
    private static partial Regex TypeName();
}
