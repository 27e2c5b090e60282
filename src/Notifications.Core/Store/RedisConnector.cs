using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Notifications.Core.Store;

/// <summary>
/// Opens the Redis connection (<c>Store:Kind</c> Redis) asynchronously at start-up, before the service takes work. A
/// Redis that does not answer yet is one warning line, and the service runs without its store (sent at least once, as
/// when Redis goes away later) while the client keeps trying in the background.
/// </summary>
public sealed class RedisConnector(IOptions<StoreOptions> options, ILogger<RedisConnector> logger) : IHostedService, IAsyncDisposable
{
    private readonly TaskCompletionSource<IConnectionMultiplexer> _connection = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes once the connection is open (or given up on for now: it then reconnects by itself).</summary>
    public Task<IConnectionMultiplexer> Connection => _connection.Task;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (options.Value.Kind != StoreKind.Redis)
            return;
        var configuration = Configure(options.Value.Redis!);
        var redis = await ConnectionMultiplexer.ConnectAsync(configuration).WaitAsync(cancellationToken);
        if (!redis.IsConnected)
            logger.LogWarning("Redis at {Endpoints} did not answer within {Timeout} ms; running without the job store until it does",
                string.Join(", ", configuration.EndPoints), configuration.ConnectTimeout);
        _connection.TrySetResult(redis);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>The client's options from <c>Store:Redis</c>; it keeps trying when Redis is down (no crash at start-up).</summary>
    public static ConfigurationOptions Configure(string redis)
    {
        var configuration = ConfigurationOptions.Parse(redis);
        configuration.AbortOnConnectFail = false;
        return configuration;
    }

    public async ValueTask DisposeAsync()
    {
        if (_connection.Task.IsCompletedSuccessfully)
            await _connection.Task.Result.DisposeAsync();
    }
}
