using System.Buffers;
using Microsoft.Extensions.Options;
using Notifications.Api.Backpressure;
using Notifications.Api.Clients;
using Notifications.Api.Sending;
using Notifications.Core.Clients;
using Notifications.Core.Contract;
using Notifications.Core.MessageLog;
using Notifications.Core.Store;
using Notifications.Core.Submission;
using Notifications.Core.Telemetry;
using Notifications.Core.Topology;
using Notifications.Core.Validation;
using SmtpServer;
using SmtpServer.Protocol;
using SmtpServer.Storage;

namespace Notifications.Api.Submission;

/// <summary>
/// The end of DATA: read and check the message (<see cref="SubmittedMessage"/>), hold it to the client's rules as the
/// HTTP API does (paused, sender, the job's rules, send-at, room in the lane), remember its Message-ID within
/// <c>Api:IdempotencyWindow</c> so a resubmission is the same job, publish it confirmed, and only then answer
/// <c>250 2.0.0 queued as &lt;job id&gt;</c>. Every refusal is an SMTP reply and leaves nothing queued.
/// </summary>
public sealed partial class SubmissionStore(
    EmailJobValidator validator,
    PausedClients paused,
    QueueDepthMonitor queueDepth,
    IIdempotencyKeys idempotencyKeys,
    JobPublication publication,
    IOptions<SubmissionOptions> options,
    IOptions<EmailOptions> email,
    NotificationsTelemetry telemetry,
    TimeProvider clock,
    ILogger<SubmissionStore> logger) : MessageStore
{
    /// <summary>How an idempotency key made of a Message-ID starts: a tab, which no HTTP Idempotency-Key may hold.</summary>
    private const string MessageIdKey = "message-id\t";

    public override async Task<SmtpResponse> SaveAsync(ISessionContext context, IMessageTransaction transaction, ReadOnlySequence<byte> buffer,
        CancellationToken cancellationToken)
    {
        var (response, outcome) = await TakeAsync(context, transaction, buffer, cancellationToken);
        telemetry.Submissions.Add(1, new KeyValuePair<string, object?>("outcome", outcome));
        return response;
    }

    private async Task<(SmtpResponse Response, string Outcome)> TakeAsync(ISessionContext context, IMessageTransaction transaction,
        ReadOnlySequence<byte> buffer, CancellationToken cancellationToken)
    {
        if (SubmissionAuthenticator.ClientOf(context) is not { } client)
            return (Reply(530, "5.7.0 Authentication required"), "unauthenticated");
        if (buffer.Length + 2 > options.Value.MaxMessageBytes)
            return (Reply(552, $"5.3.4 Message too big: at most {options.Value.MaxMessageBytes} bytes"), "too-big");
        var eightBit = transaction.Parameters.TryGetValue("BODY", out var body) && body.Equals("8BITMIME", StringComparison.OrdinalIgnoreCase)
            || transaction.Parameters.ContainsKey("SMTPUTF8");
        if (SubmittedMessage.TryRead(buffer, eightBit, out var refusal) is not { } message)
            return (refusal!, "invalid");
        if (paused.ReasonFor(client.Name) is { } pause)
            return (Reply(451, $"4.7.1 Client '{client.Name}' is paused by the reputation guard: {pause.ReplaceLineEndings(" ")}"), "paused");
        if (!client.MaySendAs(message.From.Address))
            return (Reply(550, $"5.7.1 From '{message.From.Address}' is not one of client '{client.Name}''s senders (Clients:{client.Name}:AllowedFrom)"), "sender");

        DateTimeOffset? sendAt = null;
        if (message.SendAt is { } due)
        {
            if (ScheduledJobs.Problem(due, clock.GetUtcNow(), email.Value.MaxSchedule, out var at) is { } problem)
                return (Reply(554, $"5.6.0 {SubmittedMessage.SendAtHeader}: {problem.Replace("sendAt", "the time")}"), "invalid");
            sendAt = at;
        }

        var messageId = message.MessageId;
        var scopedKey = messageId is null ? null : IdempotencyKey.Scoped(MessageIdKey + messageId, client.Name);
        var id = scopedKey is null ? Guid.CreateVersion7().ToString() : IdempotencyKey.JobId(scopedKey);
        if (messageId is null)
            message.AddMessageId($"{id}@{message.From.Domain}");
        var job = ToJob(id, client, message, transaction, sendAt);
        var errors = validator.Validate(job, client.Name);
        if (errors.Count > 0)
            return (Reply(554, "5.6.0 " + string.Join("; ", errors.Select(e => $"{FieldName(e.Key)}: {string.Join(", ", e.Value)}"))), "invalid");
        if (queueDepth.IsOverLimit(job.Lane))
            return (Reply(452, $"4.3.1 Too many queued jobs in the {job.Lane.ToWire()} lane; try again later"), "queue-full");

        if (scopedKey is not null)
        {
            try
            {
                if (!await idempotencyKeys.TryRememberIdempotencyKeyAsync(scopedKey, IdempotencyKey.Hash(message.Bytes), cancellationToken))
                    return (Reply(554, $"5.6.0 Message-ID <{messageId}> was already submitted with other content; give this message its own Message-ID"), "duplicate-id");
            }
            catch (Exception ex) when (StoreRegistration.IsStoreFailure(ex))
            {
                LogStoreUnavailable(ex.Message);
                return (Reply(451, "4.3.0 The job store did not answer; nothing was queued, try again later"), "store-unavailable");
            }
        }

        using var scope = logger.BeginScope(new JobLogScope(job.Id, job.Client));
        if (await publication.TryPublishAsync(job, LogEntries.ViaSmtp, cancellationToken) is { } failure)
            return (Reply(451, failure.MayHaveArrived
                ? "4.3.0 The queue did not confirm the message in time; send it again (same Message-ID: it is sent at most once)"
                : "4.3.0 The queue cannot take messages right now; nothing was queued, try again later"), "broker-unavailable");
        LogQueued(job.Id, message.Bytes.Length, job.To.Count + job.Bcc.Count);
        return (new SmtpResponse(SmtpReplyCode.Ok, $"2.0.0 queued as {job.Id}"), "queued");
    }

    /// <summary>
    /// The job: the envelope's recipients the To and Cc headers show in <c>to</c>, the others (Bcc) in <c>bcc</c> — a list
    /// mail's one recipient always in <c>to</c> — and the message itself as its content.
    /// </summary>
    private EmailJob ToJob(string id, Client client, SubmittedMessage message, IMessageTransaction transaction, DateTimeOffset? sendAt)
    {
        var envelope = transaction.To.Select(m => $"{m.User}@{m.Host}").Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        var shown = message.List is not null ? envelope : envelope.Where(message.Shown.Contains).ToList();
        return new EmailJob
        {
            Id = id,
            CreatedAt = clock.GetUtcNow(),
            Client = client.Name,
            From = message.From.ToString(),
            Subject = message.Subject,
            To = shown,
            Bcc = [.. envelope.Except(shown, StringComparer.OrdinalIgnoreCase)],
            List = message.List,
            Priority = message.Priority,
            Metadata = message.Metadata,
            SendAt = sendAt,
            Raw = message.Bytes,
            Test = client.IsTest ? true : null,
        };
    }

    /// <summary>A job field as the SMTP sender knows it: the control header that set it, or the envelope.</summary>
    private static string FieldName(string field) => field switch
    {
        "list" => SubmittedMessage.ListHeader,
        "priority" => SubmittedMessage.PriorityHeader,
        "to" or "bcc" => "recipients",
        "metadata" => SubmittedMessage.MetadataPrefix + "*",
        _ when field.StartsWith("metadata.", StringComparison.Ordinal) => SubmittedMessage.MetadataPrefix + field["metadata.".Length..],
        _ => field,
    };

    private static SmtpResponse Reply(int code, string text) => new((SmtpReplyCode)code, text);

    [LoggerMessage(Level = LogLevel.Information, Message = "SMTP submission: job {JobId} queued ({Bytes} bytes, {Recipients} recipients)")]
    private partial void LogQueued(string jobId, int bytes, int recipients);

    [LoggerMessage(Level = LogLevel.Warning, Message = "SMTP submission: job store unavailable: {Reason}")]
    private partial void LogStoreUnavailable(string reason);
}
