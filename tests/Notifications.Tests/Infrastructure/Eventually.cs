namespace Notifications.Tests.Infrastructure;

/// <summary>Waits for an outcome by polling with a deadline, never by sleeping a fixed time.</summary>
public static class Eventually
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    public static async Task<T> ReturnsAsync<T>(Func<Task<T>> probe, Func<T, bool> done, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? DefaultTimeout);
        while (true)
        {
            var value = await probe();
            if (done(value))
                return value;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"Gave up waiting for {what}; last value: {value}");
            await Task.Delay(50);
        }
    }

    public static Task TrueAsync(Func<bool> condition, string what, TimeSpan? timeout = null) =>
        ReturnsAsync(() => Task.FromResult(condition()), ok => ok, what, timeout);

    /// <summary>
    /// What must not happen (a duplicate, a fifth try, a forged callback) does not within <paramref name="window"/>: polled
    /// throughout, failing at the first sight of it instead of after a sleep. Absence can only be watched for a while; the
    /// window is the time it would have taken to show.
    /// </summary>
    public static async Task NeverAsync(Func<Task<bool>> happened, string what, TimeSpan window)
    {
        var end = DateTime.UtcNow + window;
        do
        {
            if (await happened())
                throw new Xunit.Sdk.XunitException($"{what} happened, and must not");
            await Task.Delay(50);
        }
        while (DateTime.UtcNow < end);
        if (await happened())
            throw new Xunit.Sdk.XunitException($"{what} happened, and must not");
    }

    public static Task NeverAsync(Func<bool> happened, string what, TimeSpan window) =>
        NeverAsync(() => Task.FromResult(happened()), what, window);
}
