using System.Globalization;
using System.Text.RegularExpressions;
using Notifications.Core.Broker;
using Notifications.Core.Contract;
using Notifications.Core.Topology;
using RabbitMQ.Client;

namespace Notifications.Api.Sending;

/// <summary>
/// Jobs with a <c>sendAt</c>: published into the broker's delay levels (<see cref="DelayTopology"/>), which hand them to
/// their lane when they are due. The levels are declared the first time a job is scheduled, and again if a publish comes
/// back unroutable (someone deleted them).
/// </summary>
public sealed partial class ScheduledJobs(ConfirmedPublisher publisher, BrokerConnection broker, TopologyNames names,
    Microsoft.Extensions.Options.IOptions<RabbitMqOptions> options)
{
    private readonly SemaphoreSlim _declaring = new(1, 1);
    private volatile bool _declared;

    /// <summary>Why <paramref name="value"/> is not a time to send at, or null (then <paramref name="at"/> is it).</summary>
    public static string? Problem(string value, DateTimeOffset now, TimeSpan maxSchedule, out DateTimeOffset? at)
    {
        at = null;
        if (!WithOffset().IsMatch(value) || !DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.None, out var parsed))
            return "sendAt is an ISO 8601 time with an offset, like 2026-12-01T09:00:00+01:00 or ...Z";
        if (parsed <= now)
            return "sendAt must be in the future";
        var limit = maxSchedule < DelayTopology.MaxDelay ? maxSchedule : DelayTopology.MaxDelay;
        if (parsed - now > limit)
            return $"sendAt is at most {limit.TotalDays:0.#} days ahead (Email:MaxSchedule)";
        at = parsed;
        return null;
    }

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?(Z|[+-]\d{2}:\d{2})$")]
    private static partial Regex WithOffset();

    /// <summary>Publishes the job into the delay levels, confirmed; it reaches its lane after <paramref name="delay"/> (whole seconds, rounded up).</summary>
    /// <exception cref="PublishFailedException">not confirmed, as for an immediate job.</exception>
    public async Task PublishAsync(EmailJob job, BasicProperties properties, TimeSpan delay, CancellationToken cancellationToken)
    {
        // As for an immediate job: a blocked connection would hold the declare and the publish until the alarm clears.
        if (broker.BlockedReason is { } blocked)
            throw new PublishFailedException($"the broker is refusing publishes for now ({blocked})");
        if (!_declared)
            await DeclareAsync(cancellationToken);
        properties.Headers![JobHeaders.SendAt] = JobProperties.Time(job.SendAt!.Value);
        await publisher.PublishToAsync(DelayTopology.EntryExchange(names), DelayTopology.RoutingKey(delay, TopologyNames.WorkKey(job.Lane)),
            properties, JobCodec.Encode(job), DeclareAsync, cancellationToken);
    }

    /// <exception cref="PublishFailedException">the broker could not declare the delay levels (within <c>RabbitMq:PublishTimeout</c>).</exception>
    private async Task DeclareAsync(CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.Value.PublishTimeout);
        try
        {
            await _declaring.WaitAsync(timeout.Token);
            try
            {
                var connection = broker.Current ?? throw new PublishFailedException("broker unreachable: no open connection");
                await using var channel = await connection.CreateChannelAsync(cancellationToken: timeout.Token);
                await DelayTopology.DeclareAsync(channel, names, timeout.Token);
                _declared = true;
            }
            finally
            {
                _declaring.Release();
            }
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new PublishFailedException($"the delay levels were not declared within {options.Value.PublishTimeout.TotalMilliseconds:0} ms", inner: ex);
        }
        catch (Exception ex) when (ex is not PublishFailedException and not OperationCanceledException)
        {
            // Whatever the broker answered (connection gone, access refused, a queue of another shape): nothing was queued.
            throw new PublishFailedException("the delay levels could not be declared: " + ex.GetBaseException().Message, inner: ex);
        }
    }
}
