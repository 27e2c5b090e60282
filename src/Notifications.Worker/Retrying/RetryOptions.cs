using Microsoft.Extensions.Options;
using Notifications.Core.Topology;

namespace Notifications.Worker.Retrying;

/// <summary>The <c>Retry</c> section: how long a job waits in <c>email.retry.n</c> before its next try.</summary>
public sealed class RetryOptions
{
    public const string Section = "Retry";

    public static readonly TimeSpan[] DefaultDelays =
        [TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(25), TimeSpan.FromSeconds(125)];

    /// <summary>Delay before retry n is <c>Delays[n-1]</c>; one retry per entry, at most three.</summary>
    public List<TimeSpan> Delays { get; set; } = [];

    /// <summary>Binding appends to a list, so the defaults go in only when configuration gave none.</summary>
    public sealed class Defaults : IPostConfigureOptions<RetryOptions>
    {
        public void PostConfigure(string? name, RetryOptions options)
        {
            if (options.Delays.Count == 0)
                options.Delays.AddRange(DefaultDelays);
        }
    }

    public sealed class Validator : IValidateOptions<RetryOptions>
    {
        public ValidateOptionsResult Validate(string? name, RetryOptions options)
        {
            if (options.Delays.Count > TopologyNames.RetryQueueCount)
                return ValidateOptionsResult.Fail(
                    $"Retry:Delays has {options.Delays.Count} entries; there are {TopologyNames.RetryQueueCount} retry queues");
            for (var i = 0; i < options.Delays.Count; i++)
                if (options.Delays[i] < TimeSpan.FromMilliseconds(1) || options.Delays[i] > TimeSpan.FromDays(1))
                    return ValidateOptionsResult.Fail($"Retry:Delays:{i} must be between 1 ms and 1 day");
            return ValidateOptionsResult.Success;
        }
    }
}
