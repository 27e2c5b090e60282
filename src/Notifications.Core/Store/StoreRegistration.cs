using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Notifications.Core.Configuration;
using StackExchange.Redis;

namespace Notifications.Core.Store;

public static class StoreRegistration
{
    /// <summary>The job store named by <c>Store:Kind</c>: a SQLite file, or Redis shared by several instances.</summary>
    public static IHostApplicationBuilder AddJobStore(this IHostApplicationBuilder builder)
    {
        builder.AddValidatedOptions<StoreOptions>(StoreOptions.Section)
            .Validate(o => o.Kind != StoreKind.Redis || !string.IsNullOrWhiteSpace(o.Redis),
                "Store:Redis is required when Store:Kind is Redis (e.g. 127.0.0.1:6379)");
        builder.Services.AddSingleton<IJobStore>(services =>
        {
            var options = services.GetRequiredService<IOptions<StoreOptions>>();
            if (options.Value.Kind == StoreKind.Sqlite)
                return new SqliteJobStore(options);
            var redisOptions = ConfigurationOptions.Parse(options.Value.Redis!);
            redisOptions.AbortOnConnectFail = false; // Redis down at start-up: keep trying, do not crash
            return new RedisJobStore(ConnectionMultiplexer.Connect(redisOptions), options);
        });
        return builder;
    }

    /// <summary>Failures of the store itself, which callers survive by doing without it for one job.</summary>
    public static bool IsStoreFailure(Exception ex) =>
        ex is Microsoft.Data.Sqlite.SqliteException or RedisException or TimeoutException or IOException;
}
