using Microsoft.Extensions.Options;
using Notifications.Core.Contract;
using Notifications.Core.Topology;

namespace Notifications.Worker.Retrying;

/// <summary>The failure table of docs/failures.md: transient failures retry with growing delays, the rest go to the DLQ.</summary>
public sealed class RetryRouter(IOptions<RetryOptions> options)
{
    private readonly IReadOnlyList<TimeSpan> _delays = options.Value.Delays;

    /// <param name="kind">what this failure was.</param>
    /// <param name="previousAttempts">failed deliveries before this one (the <c>x-attempts</c> header).</param>
    /// <param name="lane">the job's lane: a retry waits in that lane's retry queue and comes back to it.</param>
    public RetryDecision Decide(FailureKind kind, int previousAttempts, Lane lane = Lane.Normal)
    {
        var attempts = Math.Max(previousAttempts, 0) + 1;
        if (kind == FailureKind.Transient && attempts <= _delays.Count)
            return new RetryDecision(TopologyNames.RetryKey(attempts, lane), _delays[attempts - 1], kind, attempts);
        return new RetryDecision(TopologyNames.DeadKey, null, kind, attempts);
    }
}
