using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Notifications.Api;
using Notifications.Core.Broker;
using Notifications.Core.Topology;
using Notifications.Worker;

namespace Notifications.Tests.Infrastructure;

/// <summary>
/// The real API and worker, in this process, on their own <c>RabbitMq:Prefix</c> of the shared
/// broker and with their own scripted relay, so tests run side by side.
/// </summary>
public sealed class Pipeline : IAsyncDisposable
{
    private readonly List<IHost> _extraWorkers = [];
    private WebApplication? _api;
    private IHost? _worker;
    private Action<IServiceCollection>? _workerServices;
    private Action<IServiceCollection>? _apiServices;

    private Pipeline(Dictionary<string, string?> settings, TestRelay relay)
    {
        Settings = settings;
        Relay = relay;
        Names = new TopologyNames(settings["RabbitMq:Prefix"]!);
        Queues = new TestQueues(Names);
    }

    public Dictionary<string, string?> Settings { get; }
    public TestRelay Relay { get; }
    public TopologyNames Names { get; }
    public TestQueues Queues { get; }
    public HttpClient Http { get; private set; } = new();
    public IServiceProvider ApiServices => _api?.Services ?? throw new InvalidOperationException("the API is not running");
    public IServiceProvider WorkerServices => _worker?.Services ?? throw new InvalidOperationException("the worker is not running");

    /// <param name="api">start the API.</param>
    /// <param name="worker">start the worker.</param>
    /// <param name="configure">changes to the settings before anything starts.</param>
    /// <param name="shippedDefaults">
    /// run with appsettings.json's timings (retry delays, SMTP timeout, circuit, hold, lease, prefetch, connections)
    /// instead of the shortened ones most tests use: for tests that claim what the shipped service does.
    /// </param>
    /// <param name="relay">the relay to use (one with TLS, say); a plain one by default.</param>
    /// <param name="workerServices">changes to the worker's services (a store or event publisher that fails on purpose).</param>
    /// <param name="apiServices">changes to the API's services, likewise.</param>
    public static async Task<Pipeline> StartAsync(bool api = true, bool worker = true,
        Action<Dictionary<string, string?>>? configure = null, bool shippedDefaults = false, TestRelay? relay = null,
        Action<IServiceCollection>? workerServices = null, Action<IServiceCollection>? apiServices = null)
    {
        relay ??= new TestRelay();
        var settings = new Dictionary<string, string?>
        {
            ["RabbitMq:Uri"] = (await BrokerEnvironment.UriAsync()).ToString(),
            ["RabbitMq:Prefix"] = $"t{Guid.NewGuid():N}"[..13] + ".",
            ["Smtp:Host"] = "127.0.0.1",
            ["Smtp:Port"] = relay.Port.ToString(),
            ["Smtp:Security"] = "None",
            ["Urls"] = "http://127.0.0.1:0",
            ["Serilog:MinimumLevel:Default"] = "Warning",
            ["Store:Kind"] = "Sqlite",
            // Off unless a test turns it on (Submitting.Listen): every API of a test run would want port 2587.
            ["Submission:Listen"] = "",
            ["OpenTelemetry:WorkerMetricsPort"] = "0",
            ["HostOptions:ShutdownTimeout"] = "00:00:10",
            // Keys are required, as shipped: every test calls the API as client "tests" unless it says otherwise.
            [$"Clients:{TestClients.Name}:KeyHashes:0"] = TestClients.KeyHash,
            [$"Clients:{TestClients.Name}:AllowedFrom:0"] = "Notifications <no-reply@example.com>",
            [$"Clients:{TestClients.Name}:AllowedFrom:1"] = "alerts@example.com",
            [$"Clients:{TestClients.Name}:AllowedFrom:2"] = "billing@example.com",
        };
        if (!shippedDefaults)
            foreach (var (key, value) in ShortenedTimings)
                settings[key] = value;
        settings["Store:Path"] = Path.Combine(Path.GetTempPath(), "notifications-tests", settings["RabbitMq:Prefix"] + "db");
        configure?.Invoke(settings);

        var pipeline = new Pipeline(settings, relay) { _workerServices = workerServices, _apiServices = apiServices };
        if (api)
            await pipeline.StartApiAsync();
        if (worker)
            await pipeline.StartWorkerAsync();
        return pipeline;
    }

    /// <summary>What most tests shorten so a retry or a lease does not take the shipped minutes.</summary>
    private static readonly Dictionary<string, string?> ShortenedTimings = new()
    {
        ["RabbitMq:Prefetch"] = "16",
        ["RabbitMq:Concurrency"] = "4",
        ["RabbitMq:PublishTimeout"] = "00:00:05",
        ["Smtp:Connections"] = "2",
        ["Smtp:Timeout"] = "00:00:05",
        ["Retry:Delays:0"] = "00:00:00.300",
        ["Retry:Delays:1"] = "00:00:00.600",
        ["Retry:Delays:2"] = "00:00:00.900",
        ["Api:MaxQueueDepth"] = "100000",
        ["Store:SendLease"] = "00:00:06", // longer than Smtp:Timeout, as start-up demands
    };

    public async Task StartApiAsync(bool waitForBroker = true)
    {
        _api = NotificationsApi.Create([], config => config.AddInMemoryCollection(Settings), _apiServices);
        await _api.StartAsync();
        Http = NewClient(TestClients.Key);
        if (waitForBroker)
            await _api.Services.GetRequiredService<BrokerConnection>().WhenConnectedAsync(Timeout());
    }

    /// <summary>Stops the API (a restart: <see cref="StartApiAsync"/> again).</summary>
    public async Task StopApiAsync()
    {
        if (_api is null)
            return;
        Http.Dispose();
        await _api.StopAsync();
        await _api.DisposeAsync();
        _api = null;
    }

    /// <summary>An HTTP client of the API that sends <paramref name="key"/> as its bearer key (none when null).</summary>
    public HttpClient NewClient(string? key)
    {
        var http = new HttpClient { BaseAddress = new Uri(_api!.Urls.First()) };
        if (key is not null)
            http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
        return http;
    }

    /// <summary>
    /// The inbound receiver on a free loopback port, for <c>Bounces:Domain</c> (which the settings must set); its port.
    /// Connected to the broker when this returns.
    /// </summary>
    public async Task<int> StartInboundAsync()
    {
        var port = FreePort.Next();
        var settings = new Dictionary<string, string?>(Settings)
        {
            ["Bounces:Listen"] = $"127.0.0.1:{port}",
            ["OpenTelemetry:InboundMetricsPort"] = "0",
        };
        var inbound = Notifications.Inbound.NotificationsInbound.Create([], config => config.AddInMemoryCollection(settings));
        await inbound.StartAsync();
        await inbound.Services.GetRequiredService<BrokerConnection>().WhenConnectedAsync(Timeout());
        _extraWorkers.Add(inbound);
        return port;
    }

    public async Task StartWorkerAsync()
    {
        _worker = NotificationsWorker.Create([], config => config.AddInMemoryCollection(Settings), _workerServices);
        await _worker.StartAsync();
        await _worker.Services.GetRequiredService<BrokerConnection>().WhenConnectedAsync(Timeout());
    }

    /// <summary>A second worker on the same broker, relay and settings (its own store file unless the store is shared).</summary>
    public async Task<IHost> StartAnotherWorkerAsync(Action<Dictionary<string, string?>>? configure = null)
    {
        var settings = new Dictionary<string, string?>(Settings);
        configure?.Invoke(settings);
        var worker = NotificationsWorker.Create([], config => config.AddInMemoryCollection(settings));
        await worker.StartAsync();
        await worker.Services.GetRequiredService<BrokerConnection>().WhenConnectedAsync(Timeout());
        _extraWorkers.Add(worker);
        return worker;
    }

    public async Task StopWorkerAsync()
    {
        if (_worker is null)
            return;
        await _worker.StopAsync();
        _worker.Dispose();
        _worker = null;
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await StopWorkerAsync();
        foreach (var worker in _extraWorkers)
        {
            await worker.StopAsync();
            worker.Dispose();
        }
        if (_api is not null)
        {
            await _api.StopAsync();
            await _api.DisposeAsync();
        }
        await Relay.DisposeAsync();
        try
        {
            await Queues.DeleteAllAsync();
        }
        catch (RabbitMQ.Client.Exceptions.OperationInterruptedException)
        {
            // A test that broke the topology on purpose; nothing of ours to clean.
        }
    }

    private static CancellationToken Timeout() => new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token;
}
