namespace Notifications.Api.Sending;

/// <summary>The send endpoint's log lines, source-generated: no logger made and no arguments boxed per request.</summary>
public sealed partial class SendEmailLog(ILogger<SendEmailLog> logger)
{
    /// <summary>For the per-job scope its lines carry.</summary>
    public ILogger Logger => logger;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId} not accepted: {Reason}")]
    public partial void NotAccepted(string jobId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId} queued, but its status could not be stored: {Reason}")]
    public partial void StatusNotStored(string jobId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job store unavailable: {Reason}")]
    public partial void StoreUnavailable(string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Job {JobId} queued for {RecipientCount} recipients")]
    public partial void Queued(string jobId, int recipientCount);
}
