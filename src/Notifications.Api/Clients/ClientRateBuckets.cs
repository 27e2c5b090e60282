using System.Collections.Concurrent;
using System.Threading.RateLimiting;
using Notifications.Core.Clients;

namespace Notifications.Api.Clients;

/// <summary>
/// One token bucket per client (<c>RatePerSecond</c>, <c>Burst</c>), shared by the rate-limiting middleware (a request,
/// a token) and the batch endpoint (an item, a token), so a batch cannot send more than the client's rate.
/// </summary>
public sealed class ClientRateBuckets
{
    private readonly ConcurrentDictionary<string, TokenBucketRateLimiter> _buckets = new(StringComparer.Ordinal);

    /// <summary>The client's bucket; null when it is not limited (rate 0).</summary>
    public RateLimiter? For(Client client) => client.RatePerSecond <= 0 ? null : _buckets.GetOrAdd(client.Name, _ => new TokenBucketRateLimiter(
        new TokenBucketRateLimiterOptions
        {
            TokenLimit = client.Burst,
            // One token at a time, evenly: a bucket refilled once a second lets a whole second's worth through at once.
            TokensPerPeriod = 1,
            ReplenishmentPeriod = TimeSpan.FromTicks(Math.Max(TimeSpan.TicksPerSecond / client.RatePerSecond, 1)),
            QueueLimit = 0,
            AutoReplenishment = true,
        }));

    /// <summary>Whole seconds until a refused lease's bucket has a token again (at least 1): what Retry-After and SMTP's 451 say.</summary>
    public static int RetryAfterSeconds(RateLimitLease refused) =>
        refused.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)) : 1;

    /// <summary>
    /// The middleware's view of a shared bucket: never idle and never disposed by it (its partitions drop limiters that
    /// look idle, which would throw away the bucket the batch endpoint draws from).
    /// </summary>
    public sealed class Shared(RateLimiter bucket) : RateLimiter
    {
        public override TimeSpan? IdleDuration => null;

        public override RateLimiterStatistics? GetStatistics() => bucket.GetStatistics();

        protected override RateLimitLease AttemptAcquireCore(int permitCount) => bucket.AttemptAcquire(permitCount);

        protected override ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken) =>
            bucket.AcquireAsync(permitCount, cancellationToken);
    }
}
