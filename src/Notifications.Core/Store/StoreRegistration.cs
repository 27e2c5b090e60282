using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Notifications.Core.Configuration;
using StackExchange.Redis;

namespace Notifications.Core.Store;

public static class StoreRegistration
{
    private const string JobStoreKey = "notifications-job-store";

    /// <summary>The job store named by <c>Store:Kind</c>: a SQLite file, or Redis shared by several instances.</summary>
    public static IHostApplicationBuilder AddJobStore(this IHostApplicationBuilder builder)
    {
        builder.AddValidatedOptions<StoreOptions>(StoreOptions.Section)
            .Validate(o => o.Kind != StoreKind.Redis || !string.IsNullOrWhiteSpace(o.Redis),
                "Store:Redis is required when Store:Kind is Redis (e.g. 127.0.0.1:6379)")
            .Validate(o => o.Kind != StoreKind.Redis || string.IsNullOrWhiteSpace(o.Redis) || IsRedisConfiguration(o.Redis),
                "Store:Redis is not a StackExchange.Redis configuration string (e.g. 127.0.0.1:6379,password=…)");
        // Connected before the hosted services that use the store start (hosted services start in the order they are added).
        builder.Services.AddSingleton<RedisConnector>();
        builder.Services.AddHostedService(services => services.GetRequiredService<RedisConnector>());
        // One store object per process, seen by each consumer through the interface of its own use.
        builder.Services.AddKeyedSingleton<IJobStore>(JobStoreKey, (services, _) =>
            services.GetRequiredService<IOptions<StoreOptions>>() is { Value.Kind: StoreKind.Redis } redis
                ? new RedisJobStore(services.GetRequiredService<RedisConnector>().Connection, redis)
                : new SqliteJobStore(services.GetRequiredService<IOptions<StoreOptions>>(), services.GetRequiredService<TimeProvider>()));
        builder.Services.AddSingleton<IIdempotencyKeys>(services => services.GetRequiredKeyedService<IJobStore>(JobStoreKey));
        builder.Services.AddSingleton<ISendClaims>(services => services.GetRequiredKeyedService<IJobStore>(JobStoreKey));
        builder.Services.AddSingleton<IJobStatuses>(services => services.GetRequiredKeyedService<IJobStore>(JobStoreKey));
        builder.Services.AddSingleton<ISuppressions>(services => new CountedSuppressions(services.GetRequiredKeyedService<IJobStore>(JobStoreKey),
            services.GetRequiredService<Telemetry.NotificationsTelemetry>()));
        builder.Services.AddSingleton<IReputation>(services => services.GetRequiredKeyedService<IJobStore>(JobStoreKey));
        builder.Services.AddSingleton<IDeadLetterIndex>(services => services.GetRequiredKeyedService<IJobStore>(JobStoreKey));
        builder.Services.AddSingleton<IConsoleSessions>(services => services.GetRequiredKeyedService<IJobStore>(JobStoreKey));
        builder.Services.AddSingleton<IRateBudget>(services =>
            services.GetRequiredKeyedService<IJobStore>(JobStoreKey) as IRateBudget ?? LocalRateBudget.Instance);
        return builder;
    }

    /// <summary>The process's one store object, for what needs several of its uses at once (a replay: statuses and the dead-letter index).</summary>
    public static IJobStore JobStore(IServiceProvider services) => services.GetRequiredKeyedService<IJobStore>(JobStoreKey);

    /// <summary>The store <c>Store:Kind</c> names, connected (for a program without a host: <c>dlq</c>).</summary>
    public static async Task<IJobStore> CreateAsync(IOptions<StoreOptions> options, TimeProvider clock)
    {
        if (options.Value.Kind == StoreKind.Sqlite)
            return new SqliteJobStore(options, clock);
        return new RedisJobStore(await ConnectionMultiplexer.ConnectAsync(RedisConnector.Configure(options.Value.Redis!)), options);
    }

    private static bool IsRedisConfiguration(string redis)
    {
        try
        {
            return ConfigurationOptions.Parse(redis).EndPoints.Count > 0;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    /// <summary>Failures of the store itself, which callers survive by doing without it for one job.</summary>
    public static bool IsStoreFailure(Exception ex) =>
        ex is Microsoft.Data.Sqlite.SqliteException or RedisException or TimeoutException or IOException;
}
