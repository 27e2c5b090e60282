using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Notifications.Core.MessageLog;

namespace Notifications.Worker.MessageLog;

/// <summary>
/// Deletes what the message log no longer keeps, every <c>MessageLog:PurgeInterval</c>: content after
/// <c>MessageLog:ContentRetention</c>, messages and their events after <c>MessageLog:Retention</c>. A store that is away is
/// tried again at the next turn.
/// </summary>
public sealed partial class MessageLogRetention(IMessageLog log, IOptions<MessageLogOptions> options, TimeProvider clock,
    ILogger<MessageLogRetention> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.Enabled)
            return;
        using var timer = new PeriodicTimer(options.Value.PurgeInterval, clock);
        do
        {
            try
            {
                var started = clock.GetTimestamp();
                var purged = await log.PurgeAsync(clock.GetUtcNow(), stoppingToken);
                if (purged.Messages > 0 || purged.Contents > 0)
                    LogPurged(purged.Messages, purged.Contents, clock.GetElapsedTime(started).TotalMilliseconds);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested && ex is not OperationCanceledException)
            {
                LogPurgeFailed(log.Describe(), ex.GetBaseException().Message);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Message log: deleted {Messages} expired messages and {Contents} expired contents in {Milliseconds:0} ms")]
    private partial void LogPurged(long messages, long contents, double milliseconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Message log: {Store} could not be purged ({Reason}); trying again at the next turn")]
    private partial void LogPurgeFailed(string store, string reason);
}
