using System.Globalization;
using Microsoft.Extensions.Logging;
using Notifications.Core.Broker;
using Notifications.Core.Contract;
using Notifications.Core.Topology;
using Notifications.Worker.Consuming;

namespace Notifications.Worker.Retrying;

/// <summary>Moves a failed job to its retry queue or the DLQ with its history; the original is acked only after the copy is confirmed.</summary>
public sealed class FailureParker(ConfirmedPublisher publisher, TopologyNames names, ILogger<FailureParker> logger)
{
    private static readonly TimeSpan ParkFailureBackoff = TimeSpan.FromSeconds(1);

    public async Task ParkAsync(Delivery delivery, RetryDecision decision, string error)
    {
        var now = DateTimeOffset.UtcNow.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
        var properties = JobProperties.CopyOf(delivery.Properties);
        var headers = properties.Headers!;
        headers[JobHeaders.Attempts] = decision.Attempts;
        headers[JobHeaders.LastError] = error;
        headers[JobHeaders.FailureKind] = decision.Kind.ToWire();
        headers[JobHeaders.FirstFailedAt] = HeaderValues.GetString(headers, JobHeaders.FirstFailedAt) ?? now;
        headers[JobHeaders.LastFailedAt] = now;
        if (decision.Delay is { } delay)
            properties.Expiration = ((long)delay.TotalMilliseconds).ToString(CultureInfo.InvariantCulture);

        try
        {
            // Ack only after this copy is confirmed, or a crash in between loses the job.
            await publisher.PublishAsync(decision.RoutingKey, properties, delivery.Body, CancellationToken.None);
        }
        catch (PublishFailedException ex)
        {
            logger.LogError("Could not move job {JobId} to {Destination} ({Reason}); returning it to {Queue}",
                delivery.JobId, decision.RoutingKey, ex.Message, names.SendQueue);
            await Task.Delay(ParkFailureBackoff);
            await delivery.ReturnAsync();
            return;
        }
        await delivery.AckAsync();

        if (decision.IsDeadLetter)
            logger.LogWarning("Dead-lettered job {JobId} to {Queue} after {Attempts} attempts as {FailureKind}: {Error}",
                delivery.JobId, names.DeadQueue, decision.Attempts, decision.Kind.ToWire(), error);
        else
            logger.LogInformation("Job {JobId} failed attempt {Attempt} ({Error}); retry via {RetryQueue} in {Delay}",
                delivery.JobId, decision.Attempts, error, names.Prefix + decision.RoutingKey, decision.Delay);
    }
}
