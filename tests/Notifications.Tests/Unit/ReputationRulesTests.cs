using Notifications.Core.Clients;
using Notifications.Core.Reputation;
using Notifications.Core.Store;

namespace Notifications.Tests.Unit;

/// <summary>When the guard pauses, with the shipped limits (5 % bounces, 0.1 % complaints over 1,000, judged from 200) and a client's own.</summary>
public sealed class ReputationRulesTests
{
    private static readonly ReputationOptions Shipped = new();

    [Theory]
    [InlineData(199, 100, 0, null)] // too few recipients to judge
    [InlineData(1000, 50, 0, null)] // exactly 5 %: not above
    [InlineData(1000, 51, 0, "bounce")]
    [InlineData(1000, 0, 1, null)] // exactly 0.1 %
    [InlineData(1000, 0, 2, "complaint")]
    [InlineData(200, 11, 0, "bounce")] // 5.5 % of the first 200
    [InlineData(5000, 51, 0, "bounce")] // the rates are over the last 1,000, not all 5,000
    public void The_shipped_limits(long sent, int bounces, int complaints, string? breach)
    {
        var result = ReputationGuard.Breach(new ReputationState("c", sent, 1000, bounces, complaints, null, null), Shipped);
        Assert.Equal(breach, result?.Rate);
        if (result is { } paused)
            Assert.Contains("of its last", paused.Reason);
    }

    [Fact]
    public void A_clients_overrides_lie_over_the_section_and_are_checked()
    {
        var own = Shipped.For(new ClientOptions { Reputation = new ReputationOverride { MaxBounceRate = 0.2, Enabled = false } });
        Assert.Equal((0.2, false, 1000, 0.001), (own.MaxBounceRate, own.Enabled, own.Window, own.MaxComplaintRate));
        Assert.Same(Shipped, Shipped.For(new ClientOptions()));

        var clients = new ClientsOptions();
        clients.ByName["bad"] = new ClientOptions { Reputation = new ReputationOverride { MaxBounceRate = 5, MinSent = 2000 } };
        var result = new ReputationOptions.Validator(Microsoft.Extensions.Options.Options.Create(clients)).Validate(null, Shipped);
        Assert.True(result.Failed);
        Assert.Contains("Clients:bad:Reputation:MaxBounceRate", result.FailureMessage);
        Assert.Contains("Clients:bad:Reputation:MinSent", result.FailureMessage);
    }
}
