using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Notifications.Api.Backpressure;
using Notifications.Api.Clients;
using Notifications.Core.Clients;
using Notifications.Api.Status;
using Notifications.Core.Broker;
using Notifications.Core.Contract;
using Notifications.Core.Store;
using Notifications.Core.Telemetry;
using Notifications.Core.Topology;
using Notifications.Core.Validation;
using Serilog.Context;

namespace Notifications.Api.Sending;

/// <summary><c>POST /api/send-email</c>: validate, publish with a confirm, and only then answer 202.</summary>
public static partial class SendEmailEndpoint
{
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
        HttpContext http,
        [AsParameters] Intake intake,
        CancellationToken cancellationToken)
    {
        var email = intake.EmailOptions.Value;
        var request = http.Request;
        if (!request.HasJsonContentType())
            return TypedResults.Problem(statusCode: StatusCodes.Status415UnsupportedMediaType,
                title: "Unsupported media type", detail: "Send the job as Content-Type: application/json.");
        if (request.ContentLength > email.MaxRequestBytes)
            return TooLarge(email.MaxRequestBytes);
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeLimit)
            sizeLimit.MaxRequestBodySize = email.MaxRequestBytes;

        var (body, tooLarge) = await ReadBodyAsync(request, email.MaxRequestBytes, cancellationToken);
        if (tooLarge)
            return TooLarge(email.MaxRequestBytes);
        var (mail, readError) = ReadRequest(body);
        if (readError is not null)
            return readError;
        var result = await AcceptAsync(http, intake, mail!, body, request.Headers[IdempotencyKey.Header].ToString(), cancellationToken);
        if (MayRetryLater(result))
            http.Response.Headers.RetryAfter = RetryAfterSeconds;
        return result;
    }

    /// <summary>A 429 or 503 of <see cref="AcceptAsync"/>: the answer carries <c>Retry-After</c>.</summary>
    internal static bool MayRetryLater(IResult result) => result switch
    {
        Results<Accepted<SendEmailAccepted>, ValidationProblem, ProblemHttpResult> union => MayRetryLater(union.Result),
        ProblemHttpResult { StatusCode: StatusCodes.Status429TooManyRequests or StatusCodes.Status503ServiceUnavailable } => true,
        _ => false,
    };

    /// <summary>The <c>Retry-After</c> of a 429 or 503, in seconds.</summary>
    internal const string RetryAfterSeconds = "5";

    /// <summary>
    /// One job from its parsed request to its confirmed publish: template, sender, validation, backpressure, idempotency,
    /// publish, status. The single and the batch endpoint both come here, so an item of a batch is held to the same rules.
    /// It writes nothing to the response (a batch runs many of these at once on one <see cref="HttpContext"/>).
    /// </summary>
    /// <param name="body">the request's bytes (the item's, in a batch): an Idempotency-Key is bound to their hash.</param>
    internal static async Task<Results<Accepted<SendEmailAccepted>, ValidationProblem, ProblemHttpResult>> AcceptAsync(HttpContext http,
        Intake intake, SendEmailRequest mail, byte[] body, string idempotencyKey, CancellationToken cancellationToken)
    {
        var (validator, clients, idempotencyKeys, statuses, telemetry, publisher, queueDepth, emailOptions, clock, log, templates, _) = intake;
        var email = emailOptions.Value;
        if (mail.Template is not null || mail.Model is not null)
        {
            // Rendered here, so the job on the wire is the final mail: a replay sends the same one.
            var (rendered, templateError) = await RenderAsync(mail, templates);
            if (templateError is not null)
                return templateError;
            mail = rendered!;
        }

        var client = http.Client(clients);
        using var clientScope = LogContext.PushProperty("Client", client?.Name);
        if (client is not null && mail.From is not null && EmailAddresses.TryParseMailbox(mail.From, out var sender, out _)
            && !client.MaySendAs(sender!.Address))
            return TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Sender not allowed",
                detail: $"'{sender.Address}' is not one of client '{client.Name}''s senders (Clients:{client.Name}:AllowedFrom).");

        var errors = validator.Validate(mail!, client?.Name);
        if (idempotencyKey.Length > 0 && !IdempotencyKey.IsValid(idempotencyKey))
            errors[IdempotencyKey.Header] = [$"1 to {IdempotencyKey.MaxLength} printable ASCII characters"];
        var sendAt = (DateTimeOffset?)null;
        if (mail!.SendAt is { } due)
        {
            if (ScheduledJobs.Problem(due, clock.GetUtcNow(), email.MaxSchedule, out var at) is { } problem)
                errors["sendAt"] = [problem];
            sendAt = at;
        }
        if (errors.Count > 0)
            return TypedResults.ValidationProblem(errors, title: "The email job is not valid");

        var lane = Lanes.FromWire(mail!.Priority);
        if (queueDepth.IsOverLimit(lane))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status429TooManyRequests, title: "Too many queued jobs",
                detail: $"{queueDepth.Depth(lane)} jobs are waiting in the {lane.ToWire()} lane; try again later.");
        }

        // A key names a job within its client: two clients that happen to use the same key get two jobs.
        var scopedKey = IdempotencyKey.Scoped(idempotencyKey, client?.Name);
        if (idempotencyKey.Length > 0)
        {
            try
            {
                if (!await idempotencyKeys.TryRememberIdempotencyKeyAsync(scopedKey, IdempotencyKey.Hash(body), cancellationToken))
                    return TypedResults.Problem(statusCode: StatusCodes.Status422UnprocessableEntity, title: "Idempotency-Key reused",
                        detail: "This Idempotency-Key was already used for a different request.");
            }
            catch (Exception ex) when (StoreRegistration.IsStoreFailure(ex))
            {
                log.StoreUnavailable(ex.Message);
                return TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Store unavailable",
                    detail: "The Idempotency-Key could not be checked because the job store did not answer; nothing was queued. Try again later.");
            }
        }

        // The same key always names the same job, on any API instance: the worker sends a job id once.
        var job = mail!.ToJob(idempotencyKey.Length > 0 ? IdempotencyKey.JobId(scopedKey) : Guid.CreateVersion7().ToString(),
            clock.GetUtcNow(), client?.DefaultFrom ?? email.DefaultFrom, client?.Name) with { SendAt = sendAt };
        using var jobScope = LogContext.PushProperty("JobId", job.Id);
        var routingKey = TopologyNames.WorkKey(job.Lane);
        using var activity = NotificationsTelemetry.Source.StartActivity($"{routingKey} publish", ActivityKind.Producer);
        activity?.SetTag("messaging.system", "rabbitmq").SetTag("messaging.destination.name", routingKey)
            .SetTag("messaging.message.id", job.Id);
        var properties = JobProperties.ForNewJob(job);
        TraceContext.Inject(activity, properties.Headers!);
        try
        {
            if (sendAt is { } dueAt)
                await intake.Scheduled.PublishAsync(job, properties, dueAt - clock.GetUtcNow(), cancellationToken);
            else
                await publisher.PublishAsync(routingKey, properties, JobCodec.Encode(job), cancellationToken);
        }
        catch (PublishFailedException ex)
        {
            log.NotAccepted(job.Id, ex.Message);
            return ex.MayHaveArrived
                ? TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Outcome unknown",
                    detail: "The broker did not confirm the job in time: it may still be queued and sent. " +
                        "Retry with the same Idempotency-Key; the service then sends it at most once.")
                : TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Queue unavailable",
                    detail: "The broker cannot take jobs right now; nothing was queued. Try again later.");
        }
        telemetry.Accepted.Add(1);
        try
        {
            await statuses.SetStatusAsync(new JobStatus(job.Id, sendAt is null ? JobStatus.Queued : JobStatus.Scheduled, job.CreatedAt,
                Client: job.Client), CancellationToken.None);
        }
        catch (Exception ex) when (StoreRegistration.IsStoreFailure(ex))
        {
            // The job is safe in the broker; only its status starts late, with the first event.
            log.StatusNotStored(job.Id, ex.Message);
        }
        log.Queued(job.Id, job.To.Count + job.Cc.Count + job.Bcc.Count);
        return TypedResults.Accepted(JobStatusEndpoint.PathOf(job.Id),
            new SendEmailAccepted(job.Id, sendAt is null ? JobStatus.Queued : JobStatus.Scheduled));
    }

    /// <summary>What accepting a job needs, bound by the endpoints from the service container.</summary>
    internal readonly record struct Intake(
        EmailJobValidator Validator,
        ClientRegistry Clients,
        IIdempotencyKeys IdempotencyKeys,
        IJobStatuses Statuses,
        NotificationsTelemetry Telemetry,
        ConfirmedPublisher Publisher,
        QueueDepthMonitor QueueDepth,
        IOptions<EmailOptions> EmailOptions,
        TimeProvider Clock,
        SendEmailLog Log,
        Templates.TemplateStore Templates,
        ScheduledJobs Scheduled);

    /// <summary>Reads the whole body, at most <paramref name="limit"/> bytes (chunked bodies have no Content-Length to check).</summary>
    private static async Task<(byte[] Body, bool TooLarge)> ReadBodyAsync(HttpRequest request, int limit, CancellationToken cancellationToken)
    {
        if (request.ContentLength is > 0 and var known && known <= limit)
        {
            // The size is known (and checked): read straight into an array of it, not through a growing stream and a copy.
            var body = new byte[known];
            await request.Body.ReadExactlyAsync(body, cancellationToken);
            return (body, false);
        }
        using var buffer = new MemoryStream(request.ContentLength is > 0 and var length ? (int)length : 4096);
        try
        {
            await request.Body.CopyToAsync(buffer, cancellationToken);
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return ([], true);
        }
        return buffer.Length > limit ? ([], true) : (buffer.ToArray(), false);
    }

    private static async Task<(SendEmailRequest? Request, ValidationProblem? Error)> RenderAsync(SendEmailRequest mail, Templates.TemplateStore templates)
    {
        if (mail.Template is null)
            return (null, BodyError("model", "model goes with template"));
        if (mail.Subject is not null || mail.Text is not null || mail.Html is not null)
            return (null, BodyError("template", "give either template (and model) or subject, text and html, not both"));
        var (rendered, problem) = await templates.RenderAsync(mail.Template, mail.Model);
        if (problem is not null)
            return (null, BodyError("template", problem));
        return (mail with { Subject = rendered!.Subject, Text = rendered.Text, Html = rendered.Html, Template = null, Model = null }, null);
    }

    internal static (SendEmailRequest? Request, ValidationProblem? Error) ReadRequest(byte[] body)
    {
        try
        {
            var mail = JsonSerializer.Deserialize(body, RequestJsonContext.Default.SendEmailRequest);
            return mail is null
                ? (null, BodyError("body", "the body must be a JSON object"))
                : (mail, null);
        }
        catch (JsonException ex)
        {
            var field = ex.Path is null or "$" ? "body" : ex.Path.TrimStart('$', '.');
            return (null, BodyError(field, DescribeJsonError(ex)));
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
            return unknown.Groups[1].Value is "id" or "createdAt"
                ? $"'{unknown.Groups[1].Value}' is assigned by the service"
                : $"unknown field '{unknown.Groups[1].Value}'";
        var duplicate = DuplicateMember().Match(ex.Message);
        if (duplicate.Success)
            return $"'{duplicate.Groups[1].Value}' is given more than once";
        var message = ex.Message.Split(" Path:", 2)[0];
        return TypeName().Replace(message, "a value of the right type");
    }

    [GeneratedRegex("The JSON property '([^']*)' could not be mapped")]
    private static partial Regex UnknownMember();

    [GeneratedRegex("[Dd]uplicate.*?property '([^']*)'")]
    private static partial Regex DuplicateMember();

    [GeneratedRegex(@"System\.[A-Za-z0-9_.`\[\]]+|Notifications\.[A-Za-z0-9_.]+")]
    private static partial Regex TypeName();
}
