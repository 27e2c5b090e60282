using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Notifications.Api.Documentation;

/// <summary>
/// What a client generator's user reads in the OpenAPI document besides what the endpoints say of themselves: the
/// licence, a server URL without a trailing slash, one tag per area with a description, and a description for every
/// operation (each endpoint's summary stays its first line). Redocly's recommended rules pass it without a warning.
/// </summary>
public sealed class ApiDocument : IOpenApiDocumentTransformer
{
    private static readonly (string Name, string Description)[] Areas =
    [
        ("Sending", "Queue mail: one job, or a batch. A 202 means the broker has the job, persistent and confirmed; the worker sends it."),
        ("Status", "What became of a job, and cancelling a scheduled one."),
        ("Suppressions", "Addresses that are not mailed: hard bounces (added by the worker) and addresses added by hand."),
        ("Templates", "The templates of Templates:Path, and rendering one without sending it."),
        ("Messages", "The message log: every message with its events (acceptance, attempts with the relay's replies, retries, bounces, webhooks), kept for MessageLog:Retention; and erasing an address from it."),
    ];

    /// <summary>Per operation id: its area, and what its description adds to its summary.</summary>
    private static readonly Dictionary<string, (string Area, string Description)> Operations = new(StringComparer.Ordinal)
    {
        ["SendEmail"] = ("Sending", "Validates the job, publishes it persistent and confirmed, and answers 202 with its id only once the broker " +
            "confirmed it. An Idempotency-Key makes a retry of the same request name the same job, sent at most once. 429 when the job's " +
            "lane is too deep or the client's rate is spent, 503 when the broker cannot take it; both carry Retry-After."),
        ["SendEmailBatch"] = ("Sending", "Each item is held to the same rules as a single job and answered on its own, in order: " +
            "{id, status: queued} or {status, errors | title, detail}. One item's failure never fails the batch."),
        ["GetEmailStatus"] = ("Status", "queued, scheduled, retrying, sent, dead, suppressed or cancelled, with the attempt, the last error " +
            "and what became of each recipient. A job of another client is answered 404, as an unknown one."),
        ["CancelEmail"] = ("Status", "Only a job that is still scheduled can be cancelled; the worker then drops it when it comes due."),
        ["ListSuppressions"] = ("Suppressions", "Newest first, a page at a time: pass the answer's next as cursor for the following page."),
        ["GetSuppression"] = ("Suppressions", "Why and since when an address is suppressed for this client."),
        ["PutSuppression"] = ("Suppressions", "The address is not mailed by this client from now on; a job whose every recipient is suppressed " +
            "ends as suppressed without a send."),
        ["DeleteSuppression"] = ("Suppressions", "The address is mailed again by this client."),
        ["ListTemplates"] = ("Templates", "Each template's name and which parts it has; a job names one in template, with a model."),
        ["SearchMessages"] = ("Messages", "Newest first, a page at a time (pass next as cursor). recipient and from match a whole address, any case; " +
            "subject matches words (a trailing * a prefix); metadata[key]=value may be given for several keys. A client's key sees its own messages, " +
            "an operator's every client's. An unknown filter, a malformed time, a limit out of 1..500 or a changed cursor is a 400 naming it."),
        ["GetMessage"] = ("Messages", "The message's facts and its events, oldest first, each {type, at, …} with its details as named fields: an attempt " +
            "has relay, tls, durationMs and the relay's reply per recipient."),
        ["GetMessageContent"] = ("Messages", "The text and html bodies and the headers as sent, while MessageLog:ContentRetention keeps them; 410 once purged, " +
            "404 for an unknown message or another client's."),
        ["EraseAddress"] = ("Messages", "An operator's key only. Messages whose only recipient it was go whole, the others lose it; job statuses and dead " +
            "letters naming it are cleaned too. A suppressed address stays suppressed. Answers the counts; a repeat answers zeros."),
        ["PreviewTemplate"] = ("Templates", "What a job with this template and model would send: subject, html and text, rendered. Nothing is queued."),
    };

    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.Info.Title = "Notifications";
        document.Info.Description = "Send email without waiting for it: POST a job, get 202 once the broker has it; a worker sends it, " +
            "retries what fails for a while, and keeps what cannot be sent for an operator.";
        document.Info.License = new OpenApiLicense { Name = "Proprietary: for use inside the organisation that runs it", Identifier = "LicenseRef-Proprietary" };
        foreach (var server in document.Servers ?? [])
            server.Url = server.Url?.TrimEnd('/');
        document.Tags = new HashSet<OpenApiTag>(Areas.Select(a => new OpenApiTag { Name = a.Name, Description = a.Description }));
        foreach (var (_, item) in document.Paths)
            foreach (var operation in item.Operations?.Values.AsEnumerable() ?? [])
                if (operation.OperationId is { } id && Operations.TryGetValue(id, out var described))
                {
                    operation.Tags = new HashSet<OpenApiTagReference> { new(described.Area, document) };
                    operation.Description = described.Description;
                }
        SchemaExamples.Describe(document);
        return Task.CompletedTask;
    }
}
