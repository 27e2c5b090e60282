using System.ComponentModel.DataAnnotations;

namespace Notifications.Core.Webhooks;

/// <summary>The <c>Webhooks</c> section: how callbacks to clients' endpoints are delivered (docs/webhooks.md).</summary>
public sealed class WebhookOptions
{
    public const string Section = "Webhooks";

    /// <summary>An answer must come within this, or the attempt failed.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:05:00", ErrorMessage = "Webhooks:Timeout must be between 1 s and 5 min")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The wait before each retry, one per retry queue (<c>webhook.retry.1..5</c>); then <c>webhook.dead</c>.</summary>
    public List<TimeSpan> Delays { get; set; } = [];

    public static readonly TimeSpan[] DefaultDelays =
        [TimeSpan.FromSeconds(10), TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(10), TimeSpan.FromHours(1), TimeSpan.FromHours(6)];

    /// <summary>Plain http to a host that is not loopback (for a receiver inside a private network; signatures still hold).</summary>
    public bool AllowHttp { get; set; }

    /// <summary>Callbacks in flight to one endpoint (scheme, host, port) at once; more wait in the broker, not in the worker.</summary>
    [Range(1, 256, ErrorMessage = "Webhooks:ConcurrencyPerEndpoint must be between 1 and 256")]
    public int ConcurrencyPerEndpoint { get; set; } = 4;

    /// <summary>Webhook messages the worker holds at once, every endpoint together.</summary>
    [Range(1, 1_000, ErrorMessage = "Webhooks:Prefetch must be between 1 and 1000")]
    public int Prefetch { get; set; } = 64;

    /// <summary>The share of callbacks to one endpoint within <see cref="CircuitSamplingDuration"/> that failed, above which its circuit opens.</summary>
    [Range(0.01, 1.0, ErrorMessage = "Webhooks:CircuitFailureRatio must be between 0.01 and 1")]
    public double CircuitFailureRatio { get; set; } = 0.5;

    [Range(2, 1_000, ErrorMessage = "Webhooks:CircuitMinimumThroughput must be between 2 and 1000")]
    public int CircuitMinimumThroughput { get; set; } = 5;

    [Range(typeof(TimeSpan), "00:00:00.500", "00:10:00", ErrorMessage = "Webhooks:CircuitSamplingDuration must be between 500 ms and 10 minutes")]
    public TimeSpan CircuitSamplingDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long an endpoint's open circuit refuses callbacks (they wait in the retry queues) before one probes it.</summary>
    [Range(typeof(TimeSpan), "00:00:00.500", "00:10:00", ErrorMessage = "Webhooks:CircuitBreakDuration must be between 500 ms and 10 minutes")]
    public TimeSpan CircuitBreakDuration { get; set; } = TimeSpan.FromSeconds(15);
}
