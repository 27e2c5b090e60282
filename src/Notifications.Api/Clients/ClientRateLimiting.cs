using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Notifications.Core.Clients;
using Notifications.Core.Telemetry;

namespace Notifications.Api.Clients;

/// <summary>
/// A token bucket per client (<c>RatePerSecond</c>, <c>Burst</c>): over it, 429 with <c>Retry-After</c> and the
/// <c>RateLimit-Policy</c>/<c>RateLimit</c> headers, counted by client. Anonymous callers and clients with rate 0 are not limited here.
/// </summary>
public static class ClientRateLimiting
{
    public const string Policy = "per-client";

    public static IServiceCollection AddClientRateLimiting(this IServiceCollection services)
    {
        services.AddRateLimiter(limiter =>
        {
            limiter.AddPolicy(Policy, http =>
            {
                var client = http.Client(http.RequestServices.GetRequiredService<ClientRegistry>());
                if (client is not { RatePerSecond: > 0 })
                    return RateLimitPartition.GetNoLimiter("unlimited");
                return RateLimitPartition.GetTokenBucketLimiter(client.Name, _ => new TokenBucketRateLimiterOptions
                {
                    TokenLimit = client.Burst,
                    // One token at a time, evenly: a bucket refilled once a second lets a whole second's worth through at once.
                    TokensPerPeriod = 1,
                    ReplenishmentPeriod = TimeSpan.FromTicks(Math.Max(TimeSpan.TicksPerSecond / client.RatePerSecond, 1)),
                    QueueLimit = 0,
                    AutoReplenishment = true,
                });
            });
            limiter.OnRejected = async (context, cancellationToken) =>
            {
                var http = context.HttpContext;
                var client = http.Client(http.RequestServices.GetRequiredService<ClientRegistry>())!;
                http.RequestServices.GetRequiredService<NotificationsTelemetry>().RateLimited.Add(1, new KeyValuePair<string, object?>("client", client.Name));
                var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait)
                    ? Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds))
                    : 1;
                var window = Math.Max(1, (int)Math.Ceiling((double)client.Burst / client.RatePerSecond));
                http.Response.StatusCode = StatusCodes.Status429TooManyRequests;
                http.Response.Headers.RetryAfter = retryAfter.ToString(CultureInfo.InvariantCulture);
                http.Response.Headers["RateLimit-Policy"] = $"{client.Burst};w={window}";
                http.Response.Headers["RateLimit"] = $"limit={client.Burst}, remaining=0, reset={retryAfter}";
                await http.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
                {
                    HttpContext = http,
                    ProblemDetails =
                    {
                        Status = StatusCodes.Status429TooManyRequests,
                        Title = "Too many requests",
                        Detail = $"Client '{client.Name}' may send {client.RatePerSecond} jobs a second (bursts of {client.Burst}); " +
                            $"try again in {retryAfter} s.",
                    },
                });
            };
        });
        return services;
    }
}
