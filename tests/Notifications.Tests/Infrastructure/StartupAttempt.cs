using Microsoft.Extensions.Configuration;
using Notifications.Core.Configuration;
using Notifications.Worker;

namespace Notifications.Tests.Infrastructure;

/// <summary>Start-up that must refuse: with what one line it says why.</summary>
public static class StartupAttempt
{
    /// <summary>Starts a worker with these settings, expects it to refuse, and answers the one line it said why.</summary>
    public static Task<string> WorkerRefusesAsync(Dictionary<string, string?> settings) =>
        RefusesAsync(NotificationsWorker.Create([], c => c.AddInMemoryCollection(settings)));

    /// <summary>Starts the inbound receiver with these settings, expects it to refuse, and answers the one line it said why.</summary>
    public static Task<string> InboundRefusesAsync(Dictionary<string, string?> settings) =>
        RefusesAsync(Notifications.Inbound.NotificationsInbound.Create([], c => c.AddInMemoryCollection(settings)));

    private static async Task<string> RefusesAsync(Microsoft.Extensions.Hosting.IHost host)
    {
        using var started = host;
        var ex = await Assert.ThrowsAnyAsync<Exception>(() => started.StartAsync());

        var line = StartupFailure.Describe(ex);
        Assert.True(line is not null, ex.ToString());
        Assert.DoesNotContain('\n', line);
        return line;
    }
}
