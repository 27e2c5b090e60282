using Microsoft.Extensions.Configuration;
using Notifications.Core.Configuration;
using Notifications.Worker;

namespace Notifications.Tests.Infrastructure;

/// <summary>Start-up that must refuse: with what one line it says why.</summary>
public static class StartupAttempt
{
    /// <summary>Starts a worker with these settings, expects it to refuse, and answers the one line it said why.</summary>
    public static async Task<string> WorkerRefusesAsync(Dictionary<string, string?> settings)
    {
        using var worker = NotificationsWorker.Create([], c => c.AddInMemoryCollection(settings));

        var ex = await Assert.ThrowsAnyAsync<Exception>(() => worker.StartAsync());

        var line = StartupFailure.Describe(ex);
        Assert.True(line is not null, ex.ToString());
        Assert.DoesNotContain('\n', line);
        return line;
    }
}
