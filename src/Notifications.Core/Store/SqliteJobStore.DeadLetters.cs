
namespace Notifications.Core.Store;

public sealed partial class SqliteJobStore
{
    private const string BumpDeadLetterVersion = "UPDATE dead_letters_version SET version = version + 1 WHERE one = 1";

    public Task IndexDeadLettersAsync(IReadOnlyCollection<IndexedDeadLetter> letters, CancellationToken cancellationToken) => _writer.RunAsync(store =>
    {
        foreach (var letter in letters)
            store.Execute("INSERT OR REPLACE INTO dead_letters (id, entry, detail) VALUES ($id, $entry, $detail)",
                ("$id", letter.Entry.Id), ("$entry", letter.Entry.ToJson()), ("$detail", letter.Detail.ToJson()));
        store.Execute(BumpDeadLetterVersion);
        return true;
    }, cancellationToken);

    public Task RemoveDeadLettersAsync(IReadOnlyCollection<string> ids, CancellationToken cancellationToken) => _writer.RunAsync(store =>
    {
        foreach (var id in ids)
            store.Execute("DELETE FROM dead_letters WHERE id = $id", ("$id", id));
        store.Execute(BumpDeadLetterVersion);
        return true;
    }, cancellationToken);

    public Task<long> DeadLetterIndexVersionAsync(CancellationToken cancellationToken)
    {
        using var connection = Open();
        using var command = Command(connection, "SELECT version FROM dead_letters_version WHERE one = 1");
        return Task.FromResult(command.ExecuteScalar() as long? ?? 0);
    }

    public Task<IReadOnlyList<DeadLetterEntry>> LoadDeadLettersAsync(CancellationToken cancellationToken)
    {
        using var connection = Open();
        using var command = Command(connection, "SELECT entry FROM dead_letters");
        using var reader = command.ExecuteReader();
        var entries = new List<DeadLetterEntry>();
        while (reader.Read())
            if (DeadLetterEntry.FromJson(reader.GetString(0)) is { } entry)
                entries.Add(entry);
        return Task.FromResult<IReadOnlyList<DeadLetterEntry>>(entries);
    }

    public Task<IndexedDeadLetter?> GetDeadLetterAsync(string id, CancellationToken cancellationToken)
    {
        using var connection = Open();
        using var command = Command(connection, "SELECT entry, detail FROM dead_letters WHERE id = $id", ("$id", id));
        using var reader = command.ExecuteReader();
        IndexedDeadLetter? found = reader.Read() && DeadLetterEntry.FromJson(reader.GetString(0)) is { } entry
            ? new IndexedDeadLetter(entry, DeadLetterDetail.FromJson(reader.GetString(1)) ?? new DeadLetterDetail(new Dictionary<string, string>(), "", false))
            : null;
        return Task.FromResult(found);
    }
}
