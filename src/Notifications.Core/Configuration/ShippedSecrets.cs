using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Notifications.Core.Configuration;

/// <summary>
/// The secrets the repository ships are for a laptop. Outside <c>Development</c>, start-up says once, as a warning, each
/// one still in use: the broker's <c>notifications</c> (or <c>guest</c>) password in <c>RabbitMq:Uri</c>, and the Erlang
/// cookie, which docker-compose reports in <c>Deployment:ErlangCookieChanged</c> (empty while its shipped default is used).
/// </summary>
public sealed partial class ShippedSecrets(IConfiguration configuration, IHostEnvironment environment, ILogger<ShippedSecrets> logger) : IHostedService
{
    private static readonly string[] ShippedBrokerLogins = ["notifications:notifications", "guest:guest"];

    /// <summary>The shipped secrets this configuration still uses, each as the warning an operator reads (never the secret itself).</summary>
    public static IReadOnlyList<string> InUse(IConfiguration configuration)
    {
        var found = new List<string>();
        if (Uri.TryCreate(configuration["RabbitMq:Uri"], UriKind.Absolute, out var broker)
            && ShippedBrokerLogins.Contains(Uri.UnescapeDataString(broker.UserInfo), StringComparer.Ordinal))
            found.Add($"RabbitMq:Uri logs in as '{broker.UserInfo.Split(':')[0]}' with the password the repository ships: "
                + "change it on the broker (rabbitmqctl change_password) and in RabbitMq:Uri");
        if (configuration["Deployment:ErlangCookieChanged"] is { } changed && !bool.TryParse(changed, out var yes) | !yes)
            found.Add("the broker's Erlang cookie is the one docker-compose ships: set NOTIFICATIONS_ERLANG_COOKIE to a long random value");
        return found;
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (!environment.IsDevelopment())
            foreach (var warning in InUse(configuration))
                LogShipped(warning);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Warning, Message = "A default secret is in use outside Development: {Warning} (README, \"In production\")")]
    private partial void LogShipped(string warning);
}
