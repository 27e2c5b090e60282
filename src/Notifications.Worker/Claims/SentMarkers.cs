using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Notifications.Core.Store;

namespace Notifications.Worker.Claims;

/// <summary>
/// Sent markers (with the job's <c>sent</c> status) the store did not take when the relay said yes, written again here
/// until it does: after the relay's 250 nothing waits for the store, and nothing is sent again because of it (this
/// process's <see cref="SentLedger"/> knows the job meanwhile). Bounded: past <see cref="Capacity"/> the oldest is
/// dropped, logged (its job stays sent; only its status and cross-worker marker are lost).
/// </summary>
public sealed class SentMarkers(ISendClaims claims, TimeProvider clock, ILogger<SentMarkers> logger) : BackgroundService
{
    public const int Capacity = 10_000;
    private static readonly TimeSpan FirstRetry = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan LongestRetry = TimeSpan.FromSeconds(30);

    private readonly Channel<JobStatus> _pending = Channel.CreateBounded<JobStatus>(
        new BoundedChannelOptions(Capacity) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true },
        dropped => logger.LogError("Sent marker of job {JobId} dropped: {Capacity} markers wait for the job store", dropped.JobId, Capacity));

    public void Enqueue(JobStatus sent) => _pending.Writer.TryWrite(sent);

    /// <summary>Markers still waiting for the store.</summary>
    public int Pending => _pending.Reader.Count;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var sent in _pending.Reader.ReadAllAsync(stoppingToken))
                await WriteAsync(sent, stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            if (_pending.Reader.Count > 0)
                logger.LogWarning("{Count} sent markers were not written before the worker stopped; those jobs stay sent", _pending.Reader.Count);
        }
    }

    private async Task WriteAsync(JobStatus sent, CancellationToken stoppingToken)
    {
        var wait = FirstRetry;
        while (true)
        {
            try
            {
                await claims.MarkSentAsync(sent.JobId, sent, stoppingToken);
                logger.LogInformation("Sent marker of job {JobId} written late", sent.JobId);
                return;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogWarning("Sent marker of job {JobId} still not written ({Reason}); trying again in {Delay}",
                    sent.JobId, ex.GetBaseException().Message, wait);
            }
            await Task.Delay(wait, clock, stoppingToken);
            wait = TimeSpan.FromTicks(Math.Min(wait.Ticks * 2, LongestRetry.Ticks));
        }
    }
}
