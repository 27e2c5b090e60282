using System.Diagnostics;
using Microsoft.Extensions.Options;
using Notifications.Core.Store;
using Notifications.Core.Suppressions;

namespace Notifications.Bench;

/// <summary>
/// What the suppression check costs a job: the worker's one lookup of all its recipients, against a list of
/// <see cref="ListSize"/> entries, in the SQLite store (and Redis when <c>REDIS_URI</c> is set). Jobs of 5 recipients,
/// one in ten with a suppressed one; 16 lookups at a time, as the worker's sending slots would.
/// </summary>
public static class SuppressionLookupRun
{
    public const int ListSize = 10_000;
    private const int Recipients = 5;
    private const int InParallel = 16;

    public static async Task<List<SuppressionLookupResult>> RunAsync(int jobs)
    {
        var results = new List<SuppressionLookupResult>();
        var path = Path.Combine(Path.GetTempPath(), $"bench-suppressions-{Guid.NewGuid():N}.db");
        try
        {
            results.Add(await MeasureAsync("SQLite", new SqliteJobStore(Options.Create(new StoreOptions { Path = path })), jobs));
        }
        finally
        {
            Cleanup.DeleteStore(path);
        }
        if (Environment.GetEnvironmentVariable("REDIS_URI") is { Length: > 0 } redis)
        {
            var prefix = $"bench{Guid.NewGuid():N}:";
            var connection = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(redis);
            try
            {
                results.Add(await MeasureAsync("Redis", new RedisJobStore(connection, Options.Create(new StoreOptions()), prefix), jobs));
            }
            finally
            {
                var server = connection.GetServer(connection.GetEndPoints()[0]);
                foreach (var key in server.Keys(pattern: prefix + "*"))
                    await connection.GetDatabase().KeyDeleteAsync(key);
                await connection.DisposeAsync();
            }
        }
        return results;
    }

    private static async Task<SuppressionLookupResult> MeasureAsync(string store, IJobStore list, int jobs)
    {
        for (var i = 0; i < ListSize; i++)
            await list.AddSuppressionAsync(new Suppression($"gone{i}@example.com", "550 5.1.1 user unknown", Suppression.Bounce, "bench",
                DateTimeOffset.UtcNow), CancellationToken.None);
        var lookups = Enumerable.Range(0, jobs).Select(j => (IReadOnlyCollection<string>)Enumerable.Range(0, Recipients)
            .Select(r => r == 0 && j % 10 == 0 ? $"gone{j % ListSize}@example.com" : $"user{j}-{r}@example.com").ToArray()).ToArray();
        var found = 0;
        var process = Process.GetCurrentProcess();
        var cpu = process.TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, InParallel).Select(async _ =>
        {
            int n;
            while ((n = Interlocked.Increment(ref next)) < jobs)
                Interlocked.Add(ref found, (await list.FindSuppressionsAsync(lookups[n], CancellationToken.None)).Count);
        }));
        var seconds = clock.Elapsed.TotalSeconds;
        process.Refresh();
        return new SuppressionLookupResult(store, jobs, Recipients, ListSize, jobs / seconds,
            (process.TotalProcessorTime - cpu).TotalMilliseconds / jobs, found == jobs / 10 + (jobs % 10 == 0 ? 0 : 1) ? "ok" : $"{found} found");
    }
}

/// <param name="CpuMsPerJob">CPU of this process per lookup (the store's client side; for Redis the server's work is not in it).</param>
public sealed record SuppressionLookupResult(string Store, int Jobs, int RecipientsPerJob, int ListSize, double LookupsPerSecond,
    double CpuMsPerJob, string Correct);
