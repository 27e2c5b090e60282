using System.Net;
using Microsoft.Extensions.Options;
using Notifications.Core.Clients;
using Notifications.Core.Contract;
using Notifications.Core.Webhooks;
using Polly.CircuitBreaker;

namespace Notifications.Worker.Webhooks;

/// <summary>Post: one signed POST through the endpoint's resilience pipeline (timeout, circuit per host), and what came of it.</summary>
public sealed class WebhookPoster(IHttpClientFactory http, TimeProvider clock, IOptions<WebhookOptions> options)
{
    public const string HttpClientName = "webhooks";

    public async Task<PostResult> PostAsync(ClientWebhook webhook, string id, ReadOnlyMemory<byte> body)
    {
        using var request = WebhookRequests.Build(webhook, id, body, clock.GetUtcNow());
        var started = clock.GetTimestamp();
        try
        {
            using var response = await http.CreateClient(HttpClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            var code = (int)response.StatusCode;
            var took = clock.GetElapsedTime(started).TotalMilliseconds;
            if (code is >= 200 and < 300)
                return PostResult.Delivered with { HttpStatus = code, DurationMs = took };
            return new PostResult(response.StatusCode == HttpStatusCode.Gone ? PostOutcome.Gone : PostOutcome.Failed, $"HTTP {code} from {webhook.Endpoint}")
                { HttpStatus = code, DurationMs = took };
        }
        catch (BrokenCircuitException)
        {
            return PostResult.CircuitOpen;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or Polly.Timeout.TimeoutRejectedException or IOException)
        {
            var what = ex is TaskCanceledException or Polly.Timeout.TimeoutRejectedException
                ? $"no answer within {options.Value.Timeout.TotalSeconds:0.#} s (Webhooks:Timeout)"
                : ex.GetBaseException().Message;
            return new PostResult(PostOutcome.Failed,
                JobCodec.OneLine($"{webhook.Endpoint}: {what} after {clock.GetElapsedTime(started).TotalMilliseconds:0} ms"))
                { DurationMs = clock.GetElapsedTime(started).TotalMilliseconds };
        }
    }
}

public enum PostOutcome
{
    /// <summary>A 2xx came.</summary>
    Delivered,

    /// <summary>410 Gone: the receiver wants no more.</summary>
    Gone,

    /// <summary>The endpoint's circuit is open: the receiver was not asked.</summary>
    CircuitOpen,

    /// <summary>Any other answer, a timeout or a refused connection.</summary>
    Failed,
}

/// <summary>What a POST came to, and for a failure what happened, on one line.</summary>
public readonly record struct PostResult(PostOutcome Outcome, string Error)
{
    /// <summary>The receiver's HTTP status, when it answered.</summary>
    public int? HttpStatus { get; init; }

    /// <summary>How long the POST took, for the message log.</summary>
    public double DurationMs { get; init; }

    public static PostResult Delivered => new(PostOutcome.Delivered, "");
    public static PostResult CircuitOpen => new(PostOutcome.CircuitOpen, "");
}
