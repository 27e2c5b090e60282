using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Notifications.Core.Clients;
using Notifications.Core.Telemetry;

namespace Notifications.Api.Clients;

/// <summary>
/// A token bucket per client (<c>RatePerSecond</c>, <c>Burst</c>): over it, 429 with <c>Retry-After</c> and the
/// <c>RateLimit-Policy</c>/<c>RateLimit</c> headers, counted by client. Anonymous callers and clients with rate 0 are not limited here.
/// The batch endpoint takes a token per item from the same bucket (<see cref="ClientRateBuckets"/>) instead of one per request.
/// </summary>
public static class ClientRateLimiting
{
    public const string Policy = "per-client";

    public static IServiceCollection AddClientRateLimiting(this IServiceCollection services)
    {
        services.AddSingleton<ClientRateBuckets>();
        services.AddRateLimiter(limiter =>
        {
            limiter.AddPolicy(Policy, http =>
            {
                var client = http.Client(http.RequestServices.GetRequiredService<ClientRegistry>());
                if (client is not { RatePerSecond: > 0 })
                    return RateLimitPartition.GetNoLimiter("unlimited");
                var bucket = http.RequestServices.GetRequiredService<ClientRateBuckets>().For(client)!;
                return RateLimitPartition.Get(client.Name, _ => new ClientRateBuckets.Shared(bucket));
            });
            Unsubscribing.UnsubscribeEndpoints.AddRateLimit(limiter);
            limiter.OnRejected = async (context, cancellationToken) =>
            {
                var http = context.HttpContext;
                if (Unsubscribing.UnsubscribeEndpoints.IsUnsubscribe(http))
                {
                    await Unsubscribing.UnsubscribeEndpoints.TooManyAsync(http);
                    return;
                }
                var client = http.Client(http.RequestServices.GetRequiredService<ClientRegistry>())!;
                http.RequestServices.GetRequiredService<NotificationsTelemetry>().RateLimited.Add(1, new KeyValuePair<string, object?>("client", client.Name));
                var retryAfter = ClientRateBuckets.RetryAfterSeconds(context.Lease);
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
