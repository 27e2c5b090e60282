using Notifications.Api.Status;
using System.Text.Json;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Notifications.Api.Clients;
using Notifications.Core.Clients;
using Notifications.Core.Telemetry;

namespace Notifications.Api.Sending;

/// <summary>
/// <c>POST /api/send-email/batch</c>: a JSON array of up to <c>Api:MaxBatch</c> jobs, each with its own optional
/// <c>"idempotencyKey"</c>. Every item goes the single endpoint's way (same rules, same answers); valid items are
/// published concurrently and each is reported queued only once the broker confirmed it. The answer is 200 with one
/// result per item, in order. Each item takes a token of the client's rate (items over it answer 429).
/// </summary>
public static class SendEmailBatchEndpoint
{
    public const string IdempotencyKeyField = "idempotencyKey";

    public static IEndpointRouteBuilder MapSendEmailBatch(this IEndpointRouteBuilder routes)
    {
        routes.MapPost("/api/send-email/batch", SendAsync)
            .WithName("SendEmailBatch")
            .WithSummary("Queue up to Api:MaxBatch emails; 200 with one result per item ({id, status: queued} or {status, errors|title})")
            .Accepts<SendEmailRequest[]>("application/json")
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .RequireAuthorization(ClientAuthentication.Policy);
        return routes;
    }

    private static async Task<Results<Ok<List<BatchItemResult>>, ValidationProblem, ProblemHttpResult>> SendAsync(HttpContext http,
        JobIntake intake, ClientRegistry clients, NotificationsTelemetry telemetry, IOptions<ApiOptions> api, ClientRateBuckets buckets, ILoggerFactory loggers,
        CancellationToken cancellationToken)
    {
        var maxBytes = (long)intake.MaxRequestBytes * 4; // a batch holds many jobs; each is held to MaxRequestBytes below
        if (!http.Request.HasJsonContentType())
            return TypedResults.Problem(statusCode: StatusCodes.Status415UnsupportedMediaType, title: "Unsupported media type",
                detail: "Send the jobs as a JSON array, Content-Type: application/json.");
        if (http.Request.ContentLength > maxBytes)
            return TooLarge(maxBytes);
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeLimit)
            sizeLimit.MaxRequestBodySize = maxBytes;

        // One document for the whole batch: each item's own bytes are its body (no tree of nodes, no writing it out again).
        using var document = await ParseAsync(http, maxBytes, cancellationToken);
        if (document.Error is { } error)
            return error;
        var items = document.Items!;
        if (items.Count == 0 || items.Count > api.Value.MaxBatch)
            return Invalid("body", $"a batch holds 1 to {api.Value.MaxBatch} jobs (Api:MaxBatch), not {items.Count}");
        var logger = loggers.CreateLogger(typeof(SendEmailBatchEndpoint));

        // A token of the client's rate per item, in order, before any is published: a batch sends no faster than single posts.
        var client = http.Client(clients);
        var bucket = client is null ? null : buckets.For(client);
        var admitted = new bool[items.Count];
        for (var i = 0; i < items.Count; i++)
        {
            using var lease = bucket?.AttemptAcquire(1);
            admitted[i] = lease?.IsAcquired ?? true;
            if (!admitted[i])
                telemetry.RateLimited.Add(1, new KeyValuePair<string, object?>("client", client!.Name));
        }
        var results = await Task.WhenAll(items.Select((item, index) => admitted[index]
            ? AcceptItemAsync(http, intake, item, index, logger, cancellationToken)
            : Task.FromResult(BatchItemResult.RateLimited(client!))));
        if (results.Any(r => r.Status is StatusCodes.Status429TooManyRequests or StatusCodes.Status503ServiceUnavailable))
            http.Response.Headers.RetryAfter = SendEmailEndpoint.RetryAfterSeconds;
        return TypedResults.Ok(results.ToList());
    }

    /// <summary>One item, whatever happens to it: a failure of one item is its own answer, never the batch's.</summary>
    private static async Task<BatchItemResult> AcceptItemAsync(HttpContext http, JobIntake intake, JsonElement item, int index,
        ILogger logger, CancellationToken cancellationToken)
    {
        try
        {
            return await AcceptItemCoreAsync(http, intake, item, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            logger.LogError(ex, "Batch item {Index} failed unexpectedly; the other items keep their answers", index);
            return new BatchItemResult(null, StatusCodes.Status500InternalServerError, null, "Unexpected error",
                "This item could not be handled; nothing was queued for it. The other items' answers stand.");
        }
    }

    private static async Task<BatchItemResult> AcceptItemCoreAsync(HttpContext http, JobIntake intake, JsonElement item,
        CancellationToken cancellationToken)
    {
        if (item.ValueKind != JsonValueKind.Object)
            return BatchItemResult.Invalid(new Dictionary<string, string[]> { ["body"] = ["an item must be a JSON object"] });
        var key = "";
        byte[] body;
        if (item.TryGetProperty(IdempotencyKeyField, out var keyElement))
        {
            if (keyElement.ValueKind != JsonValueKind.String)
                return BatchItemResult.Invalid(new Dictionary<string, string[]> { [IdempotencyKeyField] = ["a string of printable ASCII"] });
            key = keyElement.GetString()!;
            // The key is bound to the job without it, as a single POST's key is bound to its body.
            var job = (JsonObject)JsonNode.Parse(JsonMarshal.GetRawUtf8Value(item))!;
            job.Remove(IdempotencyKeyField);
            body = JsonSerializer.SerializeToUtf8Bytes(job);
        }
        else
        {
            body = JsonMarshal.GetRawUtf8Value(item).ToArray();
        }
        if (body.Length > intake.MaxRequestBytes)
            return new BatchItemResult(null, StatusCodes.Status413PayloadTooLarge, null, "Job too large",
                $"The job is larger than {intake.MaxRequestBytes} bytes (Email:MaxRequestBytes).");
        var (mail, readError) = SendEmailBinding.ReadRequest(body);
        if (readError is not null)
            return BatchItemResult.From(readError);
        return BatchItemResult.From(await intake.AcceptAsync(http, mail!, body, key, cancellationToken, Core.MessageLog.LogEntries.ViaBatch));
    }

    /// <summary>The body as one JSON document and its items, or the answer to give instead (not JSON, not an array, too large).</summary>
    private static async Task<ParsedBatch> ParseAsync(HttpContext http, long maxBytes, CancellationToken cancellationToken)
    {
        JsonDocument document;
        try
        {
            document = await JsonDocument.ParseAsync(http.Request.Body, new JsonDocumentOptions { AllowDuplicateProperties = false },
                cancellationToken);
        }
        catch (JsonException ex)
        {
            return new ParsedBatch(null, null, Invalid("body", $"not valid JSON: {ex.Message.Split(" Path:", 2)[0]}"));
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return new ParsedBatch(null, null, TooLarge(maxBytes));
        }
        if (document.RootElement.ValueKind != JsonValueKind.Array)
        {
            document.Dispose();
            return new ParsedBatch(null, null, Invalid("body", "the body must be a JSON array of jobs"));
        }
        return new ParsedBatch(document, [.. document.RootElement.EnumerateArray()], null);
    }

    private sealed record ParsedBatch(JsonDocument? Document, List<JsonElement>? Items,
        Results<Ok<List<BatchItemResult>>, ValidationProblem, ProblemHttpResult>? Error) : IDisposable
    {
        public void Dispose() => Document?.Dispose();
    }

    private static ValidationProblem Invalid(string field, string message) =>
        TypedResults.ValidationProblem(new Dictionary<string, string[]> { [field] = [message] }, title: "The batch is not valid");

    private static ProblemHttpResult TooLarge(long limit) =>
        TypedResults.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: "Request too large",
            detail: $"The batch is larger than {limit} bytes (4 × Email:MaxRequestBytes).");
}

/// <summary>One item's answer: <c>{"id", "status": "queued"}</c>, or its HTTP status with the errors or the problem.</summary>
public sealed record BatchItemResult(string? Id, object Status, IDictionary<string, string[]>? Errors = null, string? Title = null, string? Detail = null)
{
    public static BatchItemResult Invalid(IDictionary<string, string[]> errors) => new(null, StatusCodes.Status400BadRequest, errors);

    public static BatchItemResult RateLimited(Client client) => new(null, StatusCodes.Status429TooManyRequests, null, "Too many requests",
        $"Client '{client.Name}' may send {client.RatePerSecond} jobs a second (bursts of {client.Burst}), a batch's items included; " +
        "nothing was queued for this item.");

    public static BatchItemResult From(IResult result) => result switch
    {
        Results<Accepted<SendEmailAccepted>, ValidationProblem, ProblemHttpResult> union => From(union.Result),
        Accepted<SendEmailAccepted> { Value: { } accepted } => new(accepted.Id, "queued"),
        ValidationProblem problem => new(null, StatusCodes.Status400BadRequest, problem.ProblemDetails.Errors),
        ProblemHttpResult problem => new(null, problem.StatusCode, null, problem.ProblemDetails.Title, problem.ProblemDetails.Detail),
        _ => new(null, StatusCodes.Status500InternalServerError, null, "Unexpected result"),
    };
}
