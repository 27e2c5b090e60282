using Microsoft.Extensions.Options;
using Notifications.Core.Clients;

namespace Notifications.Core.Reputation;

/// <summary>
/// The <c>Reputation</c> section: over each client's last <see cref="Window"/> recipients, a hard-bounce rate above
/// <see cref="MaxBounceRate"/> or a complaint rate above <see cref="MaxComplaintRate"/> pauses it (as SES pauses an
/// account). <c>Clients:&lt;name&gt;:Reputation</c> overrides any of these for one client.
/// </summary>
public sealed class ReputationOptions
{
    public const string Section = "Reputation";

    public bool Enabled { get; set; } = true;

    /// <summary>The rates are over this many of the client's last recipients.</summary>
    public int Window { get; set; } = 1000;

    /// <summary>No pause before the client sent to this many recipients: three bounces of the first ten say little.</summary>
    public int MinSent { get; set; } = 200;

    /// <summary>0.05 = 5 %.</summary>
    public double MaxBounceRate { get; set; } = 0.05;

    /// <summary>0.001 = 0.1 %.</summary>
    public double MaxComplaintRate { get; set; } = 0.001;

    /// <summary>These settings with a client's overrides laid over them.</summary>
    public ReputationOptions For(ClientOptions? client) => client?.Reputation is not { } over ? this : new ReputationOptions
    {
        Enabled = over.Enabled ?? Enabled,
        Window = over.Window ?? Window,
        MinSent = over.MinSent ?? MinSent,
        MaxBounceRate = over.MaxBounceRate ?? MaxBounceRate,
        MaxComplaintRate = over.MaxComplaintRate ?? MaxComplaintRate,
    };

    public static IEnumerable<string> Problems(string at, ReputationOptions o)
    {
        if (o.Window is < 10 or > 1_000_000)
            yield return $"{at}:Window must be between 10 and 1000000";
        if (o.MinSent < 1 || o.MinSent > o.Window)
            yield return $"{at}:MinSent must be between 1 and Window ({o.Window})";
        if (o.MaxBounceRate is <= 0 or >= 1)
            yield return $"{at}:MaxBounceRate must be a fraction between 0 and 1 (0.05 = 5 %)";
        if (o.MaxComplaintRate is <= 0 or >= 1)
            yield return $"{at}:MaxComplaintRate must be a fraction between 0 and 1 (0.001 = 0.1 %)";
    }

    /// <summary>The section and every client's overrides, each as it will be used.</summary>
    public sealed class Validator(IOptions<ClientsOptions> clients) : IValidateOptions<ReputationOptions>
    {
        public ValidateOptionsResult Validate(string? name, ReputationOptions options)
        {
            var failures = Problems(Section, options).ToList();
            foreach (var (client, settings) in clients.Value.ByName)
                if (settings.Reputation is not null)
                    failures.AddRange(Problems($"Clients:{client}:Reputation", options.For(settings)));
            return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
        }
    }
}
