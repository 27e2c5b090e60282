using System.Globalization;
using Microsoft.Extensions.Options;
using System.Text.Json;
using Notifications.Core.Suppressions;
using StackExchange.Redis;

namespace Notifications.Core.Store;

/// <summary>The suppression list and the console's sessions in Redis.</summary>
public sealed partial class RedisJobStore
{
    // The list: a hash of entries by address, and a sorted set of the addresses (all score 0, so ordered by the bytes)
    // for keyset paging, the same order and cursor as SQLite's. Entries do not expire: a dead address stays dead.
    private string SuppressionsKey => keyPrefix + "suppressions";
    private string SuppressionIndexKey => keyPrefix + "suppressions:index";

    public async Task<IReadOnlyDictionary<string, Suppression>> FindSuppressionsAsync(IReadOnlyCollection<string> addresses,
        CancellationToken cancellationToken)
    {
        var found = new Dictionary<string, Suppression>(StringComparer.Ordinal);
        if (addresses.Count == 0)
            return found;
        var values = await Db.HashGetAsync(SuppressionsKey, [.. addresses.Select(a => (RedisValue)a)]);
        foreach (var value in values)
            if (ParseSuppression(value) is { } entry)
                found[entry.Key] = entry;
        return found;
    }

    // Each client's entries have an index of their own too, so a client's listing reads only its own keys.
    private string ClientIndexKey(string client) => keyPrefix + "suppressions:index:client:" + client;

    public async Task AddSuppressionAsync(Suppression suppression, CancellationToken cancellationToken)
    {
        var before = suppression.Client is null ? null : ParseSuppression(await Db.HashGetAsync(SuppressionsKey, suppression.Key));
#pragma warning disable SER301
        var transaction = Db.CreateTransaction();
        _ = transaction.HashSetAsync(SuppressionsKey, suppression.Key, JsonSerializer.Serialize(suppression, SuppressionJsonContext.Default.Suppression));
        _ = transaction.SortedSetAddAsync(SuppressionIndexKey, suppression.Key, 0);
        if (before?.Client is { } previous && previous != suppression.Client)
            _ = transaction.SortedSetRemoveAsync(ClientIndexKey(previous), suppression.Key);
        if (suppression.Client is { } client)
            _ = transaction.SortedSetAddAsync(ClientIndexKey(client), suppression.Key, 0);
        await transaction.ExecuteAsync();
#pragma warning restore SER301
    }

    public async Task<Suppression?> GetSuppressionAsync(string address, CancellationToken cancellationToken) =>
        ParseSuppression(await Db.HashGetAsync(SuppressionsKey, address));

    private string ConsoleSessionKey(string sessionId) => keyPrefix + "console-session:" + sessionId;

    public Task StartConsoleSessionAsync(string sessionId, DateTimeOffset expires, CancellationToken cancellationToken) =>
        Db.StringSetAsync(ConsoleSessionKey(sessionId), "1", expires - DateTimeOffset.UtcNow);

    public Task<bool> IsConsoleSessionActiveAsync(string sessionId, CancellationToken cancellationToken) =>
        Db.KeyExistsAsync(ConsoleSessionKey(sessionId));

    public Task EndConsoleSessionAsync(string sessionId, CancellationToken cancellationToken) => Db.KeyDeleteAsync(ConsoleSessionKey(sessionId));

    public async Task<IReadOnlyList<Suppression>> GetSuppressionsOfAsync(string address, CancellationToken cancellationToken)
    {
        // The address's own key, and its list keys "address#client/list": those sort between "address#" and "address$".
        var keys = await Db.SortedSetRangeByValueAsync(SuppressionIndexKey, address + "#", address + "$", Exclude.Stop);
        var values = await Db.HashGetAsync(SuppressionsKey, [address, .. keys]);
        return [.. values.Select(ParseSuppression).OfType<Suppression>()];
    }

    public async Task<bool> RemoveSuppressionAsync(string address, CancellationToken cancellationToken)
    {
        var entry = ParseSuppression(await Db.HashGetAsync(SuppressionsKey, address));
#pragma warning disable SER301
        var transaction = Db.CreateTransaction();
        var removed = transaction.HashDeleteAsync(SuppressionsKey, address);
        _ = transaction.SortedSetRemoveAsync(SuppressionIndexKey, address);
        if (entry?.Client is { } client)
            _ = transaction.SortedSetRemoveAsync(ClientIndexKey(client), address);
        await transaction.ExecuteAsync();
#pragma warning restore SER301
        return await removed;
    }

    public async Task<SuppressionPage> ListSuppressionsAsync(SuppressionQuery query, CancellationToken cancellationToken)
    {
        var items = new List<Suppression>();
        var after = query.Cursor ?? "";
        // Filters are applied here, so a filtered page may take several reads of the index; it is full whenever it can be.
        while (true)
        {
            var batch = Math.Max(query.Limit + 1, 100);
            var addresses = await Db.SortedSetRangeByValueAsync(query.Client is { } client ? ClientIndexKey(client) : SuppressionIndexKey,
                after.Length == 0 ? default : (RedisValue)after, default, after.Length == 0 ? Exclude.None : Exclude.Start, Order.Ascending,
                skip: 0, take: batch);
            if (addresses.Length == 0)
                return new SuppressionPage(items, null);
            var values = await Db.HashGetAsync(SuppressionsKey, addresses);
            for (var i = 0; i < addresses.Length; i++)
            {
                if (ParseSuppression(values[i]) is not { } entry || !query.Matches(entry))
                    continue;
                if (items.Count == query.Limit)
                    return new SuppressionPage(items, items[^1].Key);
                items.Add(entry);
            }
            if (addresses.Length < batch)
                return new SuppressionPage(items, null);
            after = addresses[^1]!;
        }
    }

    private static Suppression? ParseSuppression(RedisValue value) =>
        value.IsNullOrEmpty ? null : JsonSerializer.Deserialize((string)value!, SuppressionJsonContext.Default.Suppression);
}
