using Notifications.Core.Clients;
using Notifications.Core.Store;
using Notifications.Core.Telemetry;

namespace Notifications.Api.Clients;

/// <summary>
/// Which clients the reputation guard paused, read from the job store every <see cref="Interval"/> (so every API
/// instance agrees within that, and a pause outlives any restart), for the send endpoints to refuse and for the gauge
/// <c>notifications.client.paused{client}</c>. A store that does not answer keeps the last known state.
/// </summary>
public sealed partial class PausedClients : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    private readonly IReputation _store;
    private readonly ClientRegistry _clients;
    private readonly TimeProvider _clock;
    private readonly ILogger<PausedClients> _logger;
    private volatile IReadOnlyDictionary<string, string> _paused = new Dictionary<string, string>(StringComparer.Ordinal);

    public PausedClients(IReputation store, ClientRegistry clients, NotificationsTelemetry telemetry, TimeProvider clock, ILogger<PausedClients> logger)
    {
        (_store, _clients, _clock, _logger) = (store, clients, clock, logger);
        telemetry.ObserveGauge("notifications.client.paused", "{client}", "1 while the reputation guard holds the client's sends, by client",
            () => _clients.All.Select(c => new System.Diagnostics.Metrics.Measurement<long>(_paused.ContainsKey(c.Name) ? 1 : 0,
                new KeyValuePair<string, object?>("client", c.Name))));
    }

    /// <summary>Why the client is paused, or null when it may send.</summary>
    public string? ReasonFor(string client) => _paused.GetValueOrDefault(client);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, _clock);
        do
        {
            await RefreshAsync(stoppingToken);
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        try
        {
            var paused = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var client in _clients.All)
                if (await _store.RecordReputationAsync(client.Name, 0, [], window: 1, cancellationToken) is { Paused: true } state)
                    paused[client.Name] = state.PausedReason ?? "paused by the reputation guard";
            foreach (var name in paused.Keys.Except(_paused.Keys))
                LogPaused(name, paused[name]);
            _paused = paused;
        }
        catch (Exception ex) when (StoreRegistration.IsStoreFailure(ex))
        {
            LogStoreUnavailable(ex.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Client {Client} is paused: {Reason}; its sends are answered 403 until an operator resumes it")]
    private partial void LogPaused(string client, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job store unavailable; paused clients not refreshed: {Reason}")]
    private partial void LogStoreUnavailable(string reason);
}
