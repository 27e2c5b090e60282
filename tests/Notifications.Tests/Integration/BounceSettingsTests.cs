using Notifications.Tests.Infrastructure;

namespace Notifications.Tests.Integration;

/// <summary>Bad Bounces settings stop start-up with one line that names the setting and never the secret.</summary>
public sealed class BounceSettingsTests
{
    private static async Task<Dictionary<string, string?>> SettingsAsync(params (string Key, string? Value)[] changes)
    {
        var settings = new Dictionary<string, string?>
        {
            ["RabbitMq:Uri"] = (await BrokerEnvironment.UriAsync()).ToString(),
            ["RabbitMq:Prefix"] = $"t{Guid.NewGuid():N}"[..13] + ".",
            ["Store:Path"] = Path.Combine(Path.GetTempPath(), "notifications-tests", Guid.NewGuid().ToString("N") + ".db"),
            ["OpenTelemetry:WorkerMetricsPort"] = "0",
            ["OpenTelemetry:InboundMetricsPort"] = "0",
            [$"Clients:{TestClients.Name}:KeyHashes:0"] = TestClients.KeyHash,
            [$"Clients:{TestClients.Name}:AllowedFrom:0"] = "no-reply@example.com",
        };
        foreach (var (key, value) in changes)
            settings[key] = value;
        return settings;
    }

    [Fact]
    public async Task A_bounce_domain_without_a_long_enough_secret_stops_the_worker_without_saying_the_secret()
    {
        var line = await StartupAttempt.WorkerRefusesAsync(await SettingsAsync(("Bounces:Domain", "bounces.example.com"), ("Bounces:Secret", "short-secret-xyz")));

        Assert.Contains("Bounces:Secret must hold at least 32 characters", line);
        Assert.DoesNotContain("short-secret-xyz", line);
    }

    [Theory]
    [InlineData("Bounces:Domain", "not a domain", "Bounces:Domain must be a domain name")]
    [InlineData("Bounces:Listen", "localhost:twenty", "Bounces:Listen must be address:port")]
    [InlineData("Bounces:MaxMessageBytes", "10", "Bounces:MaxMessageBytes must be between")]
    [InlineData("Reputation:MaxBounceRate", "5", "Reputation:MaxBounceRate must be a fraction")]
    public async Task A_bad_setting_stops_the_worker_with_one_line_naming_it(string key, string value, string expected)
    {
        var line = await StartupAttempt.WorkerRefusesAsync(await SettingsAsync((key, value), ("Bounces:Secret", new string('s', 40)),
            ("Bounces:Domain", key == "Bounces:Domain" ? value : "bounces.example.com")));

        Assert.Contains(expected, line);
    }

    [Fact]
    public async Task The_inbound_receiver_without_a_bounce_domain_refuses_to_start()
    {
        var line = await StartupAttempt.InboundRefusesAsync(await SettingsAsync());

        Assert.Contains("Bounces:Domain must be set for the inbound receiver", line);
    }
}
