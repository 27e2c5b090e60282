using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Notifications.Api.Backpressure;
using Notifications.Api.Clients;
using Notifications.Api.Status;
using Notifications.Core.Clients;
using Notifications.Core.Contract;
using Notifications.Core.Store;
using Notifications.Core.Telemetry;
using Notifications.Core.Topology;
using Notifications.Core.Validation;

namespace Notifications.Api.Sending;

/// <summary>
/// One job from its bound request to its confirmed publish: render → authorise the sender → validate → room in its lane
/// → Idempotency-Key → publish → answer. The single and the batch endpoint both come here, so an item of a batch is held
/// to the same rules. It writes nothing to the response (a batch runs many of these at once on one <see cref="HttpContext"/>).
/// </summary>
public sealed class JobIntake(
    EmailJobValidator validator,
    ClientRegistry clients,
    Templates.TemplateStore templates,
    QueueDepthMonitor queueDepth,
    PausedClients paused,
    IIdempotencyKeys idempotencyKeys,
    JobPublication publication,
    IOptions<EmailOptions> emailOptions,
    TimeProvider clock,
    SendEmailLog log)
{
    private readonly EmailOptions _email = emailOptions.Value;

    public int MaxRequestBytes => _email.MaxRequestBytes;

    /// <param name="body">the request's bytes (the item's, in a batch): an Idempotency-Key is bound to their hash.</param>
    public async Task<Results<Accepted<SendEmailAccepted>, ValidationProblem, ProblemHttpResult>> AcceptAsync(HttpContext http,
        SendEmailRequest mail, byte[] body, string idempotencyKey, CancellationToken cancellationToken, string via = Core.MessageLog.LogEntries.ViaHttp)
    {
        if (mail.Template is not null || mail.Model is not null)
        {
            // Rendered here, so the job on the wire is the final mail: a replay sends the same one.
            var (rendered, templateError) = await RenderAsync(mail);
            if (templateError is not null)
                return templateError;
            mail = rendered!;
        }
        var client = http.Client(clients);
        if (client is not null && paused.ReasonFor(client.Name) is { } pause)
            return TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, type: "sending-paused", title: "Sending paused",
                detail: $"Client '{client.Name}' is paused by the reputation guard: {pause}. An operator resumes it (dlq clients resume {client.Name}).");
        if (Authorise(client, mail) is { } forbidden)
            return forbidden;
        var (sendAt, invalid) = Validate(mail, client, idempotencyKey);
        if (invalid is not null)
            return invalid;
        var lane = Lanes.FromWire(mail.Priority);
        if (queueDepth.IsOverLimit(lane))
            return TypedResults.Problem(statusCode: StatusCodes.Status429TooManyRequests, title: "Too many queued jobs",
                detail: $"{queueDepth.Depth(lane)} jobs are waiting in the {lane.ToWire()} lane; try again later.");

        // A key names a job within its client: two clients that happen to use the same key get two jobs.
        var scopedKey = IdempotencyKey.Scoped(idempotencyKey, client?.Name);
        if (idempotencyKey.Length > 0 && await RememberKeyAsync(scopedKey, body, cancellationToken) is { } keyProblem)
            return keyProblem;

        // The same key always names the same job, on any API instance: the worker sends a job id once.
        var job = mail.ToJob(idempotencyKey.Length > 0 ? IdempotencyKey.JobId(scopedKey) : Guid.CreateVersion7().ToString(),
            clock.GetUtcNow(), client?.DefaultFrom ?? _email.DefaultFrom, client?.Name) with { SendAt = sendAt, Test = client?.IsTest == true ? true : null };
        using var scope = log.Logger.BeginScope(new JobLogScope(job.Id, job.Client));
        if (await publication.PublishAsync(job, via, cancellationToken) is { } notPublished)
            return notPublished;
        return TypedResults.Accepted(JobStatusEndpoint.PathOf(job.Id),
            new SendEmailAccepted(job.Id, sendAt is null ? JobStatus.Queued : JobStatus.Scheduled));
    }

    private async Task<(SendEmailRequest? Request, ValidationProblem? Error)> RenderAsync(SendEmailRequest mail)
    {
        if (mail.Template is null)
            return (null, SendEmailBinding.BodyError("model", "model goes with template"));
        if (mail.Subject is not null || mail.Text is not null || mail.Html is not null)
            return (null, SendEmailBinding.BodyError("template", "give either template (and model) or subject, text and html, not both"));
        var (rendered, problem) = await templates.RenderAsync(mail.Template, mail.Model);
        if (problem is not null)
            return (null, SendEmailBinding.BodyError("template", problem));
        return (mail with { Subject = rendered!.Subject, Text = rendered.Text, Html = rendered.Html, Template = null, Model = null }, null);
    }

    /// <summary>A client may send only as its own senders (<c>Clients:{name}:AllowedFrom</c>).</summary>
    private static ProblemHttpResult? Authorise(Client? client, SendEmailRequest mail) =>
        client is not null && mail.From is not null && EmailAddresses.TryParseMailbox(mail.From, out var sender, out _)
            && !client.MaySendAs(sender!.Address)
            ? TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Sender not allowed",
                detail: $"'{sender.Address}' is not one of client '{client.Name}''s senders (Clients:{client.Name}:AllowedFrom).")
            : null;

    private (DateTimeOffset? SendAt, ValidationProblem? Problem) Validate(SendEmailRequest mail, Client? client, string idempotencyKey)
    {
        var errors = validator.Validate(mail, client?.Name);
        if (idempotencyKey.Length > 0 && !IdempotencyKey.IsValid(idempotencyKey))
            errors[IdempotencyKey.Header] = [$"1 to {IdempotencyKey.MaxLength} printable ASCII characters"];
        var sendAt = (DateTimeOffset?)null;
        if (mail.SendAt is { } due)
        {
            if (ScheduledJobs.Problem(due, clock.GetUtcNow(), _email.MaxSchedule, out var at) is { } problem)
                errors["sendAt"] = [problem];
            sendAt = at;
        }
        return errors.Count > 0 ? (null, TypedResults.ValidationProblem(errors, title: "The email job is not valid")) : (sendAt, null);
    }

    /// <summary>A key is bound to the request it first came with; the same key with another body is a 422.</summary>
    private async Task<ProblemHttpResult?> RememberKeyAsync(string scopedKey, byte[] body, CancellationToken cancellationToken)
    {
        try
        {
            return await idempotencyKeys.TryRememberIdempotencyKeyAsync(scopedKey, IdempotencyKey.Hash(body), cancellationToken)
                ? null
                : TypedResults.Problem(statusCode: StatusCodes.Status422UnprocessableEntity, title: "Idempotency-Key reused",
                    detail: "This Idempotency-Key was already used for a different request.");
        }
        catch (Exception ex) when (StoreRegistration.IsStoreFailure(ex))
        {
            log.StoreUnavailable(ex.Message);
            return TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Store unavailable",
                detail: "The Idempotency-Key could not be checked because the job store did not answer; nothing was queued. Try again later.");
        }
    }
}
