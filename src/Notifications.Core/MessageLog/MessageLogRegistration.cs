using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Notifications.Core.Configuration;
using Notifications.Core.Store;

namespace Notifications.Core.MessageLog;

public static class MessageLogRegistration
{
    /// <summary>
    /// The message log named by <c>MessageLog:Store</c> (its schema made on first use, so a store that is away at start-up
    /// delays the log, never the start) and the publisher that hands entries to it through the broker.
    /// </summary>
    public static IHostApplicationBuilder AddMessageLog(this IHostApplicationBuilder builder)
    {
        builder.AddValidatedOptions<MessageLogOptions>(MessageLogOptions.Section)
            .Validate(o => o.Store != MessageLogStore.Postgres || !string.IsNullOrWhiteSpace(o.ConnectionString),
                "MessageLog:ConnectionString is required when MessageLog:Store is Postgres (e.g. Host=db;Username=notifications;Password=…;Database=notifications)")
            .Validate(o => o.Store != MessageLogStore.Postgres || string.IsNullOrWhiteSpace(o.ConnectionString) || PostgresMessageLog.IsConnectionString(o.ConnectionString),
                "MessageLog:ConnectionString is not an Npgsql connection string (Host=…;Username=…;Password=…;Database=…)")
            .Validate(o => o.ContentRetention <= o.Retention, "MessageLog:ContentRetention must not be longer than MessageLog:Retention");
        builder.Services.AddSingleton<IMessageLog>(services => new InitializedMessageLog(Create(
            services.GetRequiredService<IOptions<MessageLogOptions>>().Value, services.GetRequiredService<IOptions<StoreOptions>>().Value,
            services.GetRequiredService<TimeProvider>())));
        builder.Services.AddSingleton(services => new MessageLogPublisher(services.GetRequiredService<Broker.ConfirmedPublisher>(),
            services.GetRequiredService<Telemetry.NotificationsTelemetry>(), services.GetRequiredService<Microsoft.Extensions.Logging.ILogger<MessageLogPublisher>>(),
            services.GetRequiredService<IOptions<MessageLogOptions>>().Value.Enabled));
        return builder;
    }

    public static IMessageLog Create(MessageLogOptions options, StoreOptions store, TimeProvider clock) => options.Store == MessageLogStore.Postgres
        ? new PostgresMessageLog(options.ConnectionString!, options, clock)
        : new SqliteMessageLog(options.ResolvedPath(store), options, clock);

    /// <summary>Failures of the log's store, which the API answers with 503 and the writer waits out.</summary>
    public static bool IsStoreFailure(Exception ex) =>
        ex is Microsoft.Data.Sqlite.SqliteException or Npgsql.NpgsqlException or TimeoutException or IOException
        || ex.InnerException is { } inner && IsStoreFailure(inner);
}

/// <summary>Makes the schema before the first use, and again on the next use if that failed (the store was away).</summary>
internal sealed class InitializedMessageLog(IMessageLog inner) : IMessageLog
{
    private readonly SemaphoreSlim _initializing = new(1, 1);
    private volatile bool _ready;

    private async Task<IMessageLog> ReadyAsync(CancellationToken cancellationToken)
    {
        if (_ready)
            return inner;
        await _initializing.WaitAsync(cancellationToken);
        try
        {
            if (!_ready)
            {
                await inner.InitializeAsync(cancellationToken);
                _ready = true;
            }
        }
        finally
        {
            _initializing.Release();
        }
        return inner;
    }

    public string Describe() => inner.Describe();
    public async Task InitializeAsync(CancellationToken cancellationToken) => await ReadyAsync(cancellationToken);
    public async Task WriteAsync(IReadOnlyList<LogEntry> entries, CancellationToken cancellationToken) => await (await ReadyAsync(cancellationToken)).WriteAsync(entries, cancellationToken);
    public async Task<MessagePage> SearchAsync(MessageQuery query, CancellationToken cancellationToken) => await (await ReadyAsync(cancellationToken)).SearchAsync(query, cancellationToken);
    public async Task<LoggedMessageView?> GetAsync(string id, string? client, CancellationToken cancellationToken) => await (await ReadyAsync(cancellationToken)).GetAsync(id, client, cancellationToken);
    public async Task<ContentLookup> GetContentAsync(string id, string? client, CancellationToken cancellationToken) => await (await ReadyAsync(cancellationToken)).GetContentAsync(id, client, cancellationToken);
    public async Task<int> EraseAsync(string address, CancellationToken cancellationToken) => await (await ReadyAsync(cancellationToken)).EraseAsync(address, cancellationToken);
    public async Task<PurgeResult> PurgeAsync(DateTimeOffset now, CancellationToken cancellationToken) => await (await ReadyAsync(cancellationToken)).PurgeAsync(now, cancellationToken);
}
