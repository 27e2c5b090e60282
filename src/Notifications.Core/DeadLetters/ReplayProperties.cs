using Notifications.Core.Broker;
using Notifications.Core.Contract;
using RabbitMQ.Client;

namespace Notifications.Core.DeadLetters;

/// <summary>What a replayed job carries: the attempt count starts again, x-replays goes up, the failure history stays.</summary>
public static class ReplayProperties
{
    public static BasicProperties For(DeadLetter letter, DateTimeOffset now)
    {
        var properties = JobProperties.CopyOf(letter.Properties, now);
        var headers = properties.Headers!;
        headers.Remove(JobHeaders.Attempts);
        headers[JobHeaders.Replays] = letter.Replays + 1;
        // A message the broker dead-lettered carries its story only in x-death, which a copy drops: keep it in ours.
        headers.TryAdd(JobHeaders.FailureKind, letter.Kind);
        headers.TryAdd(JobHeaders.LastError, letter.LastError);
        if (letter.DiedAt is { } diedAt)
            headers.TryAdd(JobHeaders.LastFailedAt, JobProperties.Time(diedAt));
        return properties;
    }
}
