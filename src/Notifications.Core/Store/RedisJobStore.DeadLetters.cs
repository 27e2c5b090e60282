using StackExchange.Redis;

namespace Notifications.Core.Store;

public sealed partial class RedisJobStore
{
    // Two hashes by id (the small entry every listing reads; the detail one page reads) and a counter that moves with
    // every change, in one transaction each time. They do not expire: the DLQ does not either.
    private string DeadEntriesKey => keyPrefix + "dead:entries";
    private string DeadDetailsKey => keyPrefix + "dead:details";
    private string DeadVersionKey => keyPrefix + "dead:version";

    public async Task IndexDeadLettersAsync(IReadOnlyCollection<IndexedDeadLetter> letters, CancellationToken cancellationToken)
    {
        if (letters.Count == 0)
            return;
#pragma warning disable SER301
        var transaction = Db.CreateTransaction();
        _ = transaction.HashSetAsync(DeadEntriesKey, [.. letters.Select(l => new HashEntry(l.Entry.Id, l.Entry.ToJson()))]);
        _ = transaction.HashSetAsync(DeadDetailsKey, [.. letters.Select(l => new HashEntry(l.Entry.Id, l.Detail.ToJson()))]);
        _ = transaction.StringIncrementAsync(DeadVersionKey);
        await transaction.ExecuteAsync();
#pragma warning restore SER301
    }

    public async Task RemoveDeadLettersAsync(IReadOnlyCollection<string> ids, CancellationToken cancellationToken)
    {
        if (ids.Count == 0)
            return;
        RedisValue[] fields = [.. ids.Select(id => (RedisValue)id)];
#pragma warning disable SER301
        var transaction = Db.CreateTransaction();
        _ = transaction.HashDeleteAsync(DeadEntriesKey, fields);
        _ = transaction.HashDeleteAsync(DeadDetailsKey, fields);
        _ = transaction.StringIncrementAsync(DeadVersionKey);
        await transaction.ExecuteAsync();
#pragma warning restore SER301
    }

    public async Task<long> DeadLetterIndexVersionAsync(CancellationToken cancellationToken) =>
        (long?)await Db.StringGetAsync(DeadVersionKey) ?? 0;

    public async Task<IReadOnlyList<DeadLetterEntry>> LoadDeadLettersAsync(CancellationToken cancellationToken)
    {
        var entries = new List<DeadLetterEntry>();
        // HSCAN in pages: one HGETALL of 100,000 entries would hold Redis for the whole reply.
        await foreach (var field in Db.HashScanAsync(DeadEntriesKey, pageSize: 2_000).WithCancellation(cancellationToken))
            if (DeadLetterEntry.FromJson(field.Value) is { } entry)
                entries.Add(entry);
        return entries;
    }

    public async Task<IndexedDeadLetter?> GetDeadLetterAsync(string id, CancellationToken cancellationToken)
    {
        var values = await Db.HashGetAsync(DeadEntriesKey, [id]);
        if (DeadLetterEntry.FromJson(values[0]) is not { } entry)
            return null;
        var detail = DeadLetterDetail.FromJson(await Db.HashGetAsync(DeadDetailsKey, id));
        return new IndexedDeadLetter(entry, detail ?? new DeadLetterDetail(new Dictionary<string, string>(), "", false));
    }
}
