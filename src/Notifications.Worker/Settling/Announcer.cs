using Microsoft.Extensions.Logging;
using Notifications.Core.Store;
using Notifications.Core.Telemetry;
using Polly;
using Polly.Registry;

namespace Notifications.Worker.Settling;

/// <summary>
/// The one place that announces an outcome: every <see cref="IAnnouncementStep"/> in turn, those that must be confirmed
/// under one named resilience pipeline (<see cref="Pipeline"/>: tried again with a growing pause while the caller still
/// holds its delivery), the others once. The mail path, the inbound path and the webhook path all announce through it.
/// </summary>
public sealed partial class Announcer(
    IEnumerable<IAnnouncementStep> steps,
    ResiliencePipelineProvider<string> pipelines,
    NotificationsTelemetry telemetry,
    ILogger<Announcer> logger)
{
    /// <summary>The resilience pipeline every confirmed announcement runs under (<see cref="SettlingRegistration"/>).</summary>
    public const string Pipeline = "notifications-announce";

    /// <summary>Whether to try again: the caller still holds what the announcement is about (its channel is open).</summary>
    internal static readonly ResiliencePropertyKey<Func<bool>> KeepTrying = new("notifications.keep-trying");

    internal static readonly ResiliencePropertyKey<string> Step = new("notifications.step");

    internal static readonly ResiliencePropertyKey<string> JobId = new("notifications.job-id");

    private readonly IAnnouncementStep[] _steps = [.. steps];
    private readonly ResiliencePipeline _pipeline = pipelines.GetPipeline(Pipeline);

    /// <summary>Each step in turn.</summary>
    /// <param name="keepTrying">asked before each new try of a step that failed; false ends the announcement.</param>
    /// <param name="aborted">cancels the pauses between tries (the worker is stopping).</param>
    /// <returns>false when a step that must be confirmed was not, and the caller gave up on it or stopped.</returns>
    public async Task<bool> AnnounceAsync(Announcement announcement, Func<bool> keepTrying, CancellationToken aborted)
    {
        foreach (var step in _steps)
        {
            if (step.MustConfirm)
            {
                if (!await ReliablyAsync(step.Name(announcement), announcement.JobId, () => step.AnnounceAsync(announcement, CancellationToken.None),
                        keepTrying, aborted))
                    return false;
                continue;
            }
            try
            {
                await step.AnnounceAsync(announcement, CancellationToken.None);
            }
            catch (Exception ex) when (StoreRegistration.IsStoreFailure(ex))
            {
                LogBestEffortLost(announcement.JobId, announcement.What, step.Name(announcement), ex.Message);
            }
        }
        return true;
    }

    /// <summary>
    /// One act that must be confirmed (a step, or a route's own publish such as a follow-up job) under the pipeline.
    /// The act itself is never cancelled halfway: only the pauses between tries are.
    /// </summary>
    public async Task<bool> ReliablyAsync(string what, string jobId, Func<Task> act, Func<bool> keepTrying, CancellationToken aborted)
    {
        // Stopping cuts a pause between tries short, never a try, and never the first: a send that ended while the worker was
        // stopping still announces it (the pipeline would refuse to start with a token already cancelled).
        using var pauses = new CancellationTokenSource();
        var stopping = default(CancellationTokenRegistration);
        var context = ResilienceContextPool.Shared.Get(pauses.Token);
        context.Properties.Set(KeepTrying, () => !aborted.IsCancellationRequested && keepTrying());
        context.Properties.Set(Step, what);
        context.Properties.Set(JobId, jobId);
        try
        {
            await _pipeline.ExecuteAsync(async _ =>
            {
                if (stopping == default)
                    stopping = aborted.Register(pauses.Cancel);
                await act();
            }, context);
            return true;
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            return false;
        }
        catch (Exception ex)
        {
            LogGaveUp(jobId, what, ex.GetBaseException().Message);
            return false;
        }
        finally
        {
            await stopping.DisposeAsync();
            ResilienceContextPool.Shared.Return(context);
        }
    }

    /// <summary>Told by the pipeline before each pause: counted and logged with what failed.</summary>
    internal void OnRetry(string jobId, string what, Exception? error, TimeSpan delay)
    {
        telemetry.AfterSendRetries.Add(1, new KeyValuePair<string, object?>("step", what));
        LogTryingAgain(jobId, what, error?.GetBaseException().Message, delay);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Job {JobId}: its {Step} was not published ({Reason}); trying again in {Delay}, nothing else is redone")]
    private partial void LogTryingAgain(string jobId, string step, string? reason, TimeSpan delay);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId}: its {Step} was not published ({Reason}) and the delivery is no longer held; its redelivery announces it")]
    private partial void LogGaveUp(string jobId, string step, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job store unavailable ({Reason}); job {JobId} is {What} but its {Step} could not be recorded")]
    private partial void LogBestEffortLost(string jobId, string what, string step, string reason);
}
