using Microsoft.Playwright;

namespace Notifications.Tests.Infrastructure;

/// <summary>
/// A real Chromium (Debian's, launched by path: <c>CHROMIUM_PATH</c>, which scripts/test.sh sets, else
/// <c>/usr/bin/chromium</c>) driven by Playwright, one per test class; each test takes a fresh context (cookies of its own).
/// </summary>
public sealed class ConsoleBrowser : IAsyncLifetime
{
    private IPlaywright? _playwright;
    private IBrowser? _browser;

    public IBrowser Browser => _browser ?? throw new InvalidOperationException("the browser did not start");

    public static string ExecutablePath =>
        Environment.GetEnvironmentVariable("CHROMIUM_PATH") is { Length: > 0 } path ? path : "/usr/bin/chromium";

    public async Task InitializeAsync()
    {
        if (!File.Exists(ExecutablePath))
            throw new InvalidOperationException($"no Chromium at {ExecutablePath}: run the tests with scripts/test.sh (it installs Debian's chromium) " +
                "or set CHROMIUM_PATH");
        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ExecutablePath,
            Headless = true,
            // Tests run as root here, where Chromium's own sandbox cannot start.
            Args = ["--no-sandbox", "--disable-dev-shm-usage"],
        });
    }

    /// <summary>A new context (its own cookies) at 1280x800 on <paramref name="baseUrl"/>.</summary>
    public Task<IBrowserContext> NewContextAsync(string baseUrl, int width = 1280, int height = 800) =>
        Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = baseUrl,
            ViewportSize = new ViewportSize { Width = width, Height = height },
        });

    public async Task DisposeAsync()
    {
        if (_browser is not null)
            await _browser.DisposeAsync();
        _playwright?.Dispose();
    }
}
