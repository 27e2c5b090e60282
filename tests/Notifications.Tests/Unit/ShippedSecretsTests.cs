using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;
using Notifications.Core.Configuration;

namespace Notifications.Tests.Unit;

/// <summary>The laptop's secrets are named at start-up outside Development; the compose file gives each service what it needs.</summary>
public sealed partial class ShippedSecretsTests
{
    private static IConfiguration Config(params (string Key, string? Value)[] settings) =>
        new ConfigurationBuilder().AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value))).Build();

    [Fact]
    public void The_shipped_broker_password_and_erlang_cookie_are_each_named_once_and_never_their_values()
    {
        var warnings = ShippedSecrets.InUse(Config(("RabbitMq:Uri", "amqp://notifications:notifications@rabbitmq:5672/"), ("Deployment:ErlangCookieChanged", "")));

        Assert.Equal(2, warnings.Count);
        Assert.Contains(warnings, w => w.Contains("change_password", StringComparison.Ordinal));
        Assert.Contains(warnings, w => w.Contains("NOTIFICATIONS_ERLANG_COOKIE", StringComparison.Ordinal));
        Assert.DoesNotContain(warnings, w => w.Contains("notifications:notifications", StringComparison.Ordinal));
    }

    [Fact]
    public void Own_secrets_or_a_deployment_that_does_not_say_give_no_warning()
    {
        Assert.Empty(ShippedSecrets.InUse(Config(("RabbitMq:Uri", "amqps://notifications:Zq9x%40long@broker:5671/"), ("Deployment:ErlangCookieChanged", "true"))));
        Assert.Empty(ShippedSecrets.InUse(Config(("RabbitMq:Uri", "amqp://svc:s3cret@broker:5672/"))));
    }

    /// <summary>Each .NET service of docker-compose.yml: every variable its start-up requires is passed (the receiver had no Bounces__Secret).</summary>
    [Theory]
    [InlineData("worker", "Bounces__Secret")]
    [InlineData("worker", "Unsubscribe__Secret")]
    [InlineData("api", "Unsubscribe__Secret")]
    [InlineData("inbound", "Bounces__Secret")]
    [InlineData("inbound", "Bounces__Domain")]
    public void The_compose_file_passes_each_service_the_secrets_it_needs_to_start(string service, string variable)
    {
        var compose = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "docker-compose.yml"));
        var block = ServiceBlock().Matches(compose).Single(m => m.Groups[1].Value == service).Groups[2].Value;

        Assert.Matches($@"(?m)^\s+{variable}: \S", block);
    }

    [GeneratedRegex(@"(?ms)^  ([a-z0-9]+):\n(.*?)(?=^  [a-z0-9]+:\n|^\S|\z)")]
    private static partial Regex ServiceBlock();
}
