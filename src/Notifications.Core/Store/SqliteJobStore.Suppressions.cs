using System.Globalization;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using Notifications.Core.Suppressions;

namespace Notifications.Core.Store;

/// <summary>The suppression list and the console's sessions in SQLite.</summary>
public sealed partial class SqliteJobStore
{
    public async Task<IReadOnlyDictionary<string, Suppression>> FindSuppressionsAsync(IReadOnlyCollection<string> addresses,
        CancellationToken cancellationToken)
    {
        if (addresses.Count == 0)
            return new Dictionary<string, Suppression>(StringComparer.Ordinal);
        // Read by the writer, in turn with the writes: a read always running next to them (one per job) kept the WAL from
        // ever being reset at a checkpoint, and the growing WAL halved the worker's throughput (bench: 2,320 -> 1,103 mail/s).
        var names = addresses.Select((_, i) => "$a" + i.ToString(CultureInfo.InvariantCulture)).ToArray();
        return await _writer.RunAsync(store => store.Query(
            $"SELECT address, reason, source, client, at, list FROM suppressions WHERE address IN ({string.Join(", ", names)})",
            reader =>
            {
                var found = new Dictionary<string, Suppression>(StringComparer.Ordinal);
                while (reader.Read())
                    found[reader.GetString(0)] = ReadSuppression(reader);
                return found;
            }, [.. names.Zip(addresses, (name, address) => (name, (object?)address))]), cancellationToken);
    }

    public Task AddSuppressionAsync(Suppression suppression, CancellationToken cancellationToken) => _writer.RunAsync(store =>
        store.Execute("""
            INSERT INTO suppressions (address, reason, source, client, at, list) VALUES ($address, $reason, $source, $client, $at, $list)
            ON CONFLICT (address) DO UPDATE SET reason = $reason, source = $source, client = $client, at = $at, list = $list
            """, ("$address", suppression.Key), ("$list", suppression.List), ("$reason", suppression.Reason), ("$source", suppression.Source),
            ("$client", suppression.Client), ("$at", suppression.At.ToUnixTimeMilliseconds())), cancellationToken);

    public Task<Suppression?> GetSuppressionAsync(string address, CancellationToken cancellationToken)
    {
        using var connection = Open();
        using var command = Command(connection, "SELECT address, reason, source, client, at, list FROM suppressions WHERE address = $address",
            ("$address", address));
        using var reader = command.ExecuteReader();
        return Task.FromResult(reader.Read() ? ReadSuppression(reader) : null);
    }

    public Task StartConsoleSessionAsync(string sessionId, DateTimeOffset expires, CancellationToken cancellationToken) => _writer.RunAsync(store =>
    {
        store.Execute("DELETE FROM console_sessions WHERE expires <= $now", ("$now", Now()));
        return store.Execute("INSERT OR REPLACE INTO console_sessions (id, expires) VALUES ($id, $expires)",
            ("$id", sessionId), ("$expires", expires.ToUnixTimeMilliseconds()));
    }, cancellationToken);

    public Task<bool> IsConsoleSessionActiveAsync(string sessionId, CancellationToken cancellationToken)
    {
        using var connection = Open();
        using var command = Command(connection, "SELECT 1 FROM console_sessions WHERE id = $id AND expires > $now", ("$id", sessionId), ("$now", Now()));
        return Task.FromResult(command.ExecuteScalar() is not null);
    }

    public Task EndConsoleSessionAsync(string sessionId, CancellationToken cancellationToken) => _writer.RunAsync(store =>
        store.Execute("DELETE FROM console_sessions WHERE id = $id", ("$id", sessionId)), cancellationToken);

    public Task<IReadOnlyList<Suppression>> GetSuppressionsOfAsync(string address, CancellationToken cancellationToken)
    {
        // The address's own key, and its list keys "address#client/list": those sort between "address#" and "address$".
        using var connection = Open();
        using var command = Command(connection, """
            SELECT address, reason, source, client, at, list FROM suppressions
            WHERE address = $address OR (address >= $from AND address < $to) ORDER BY address
            """, ("$address", address), ("$from", address + "#"), ("$to", address + "$"));
        using var reader = command.ExecuteReader();
        var entries = new List<Suppression>();
        while (reader.Read())
            entries.Add(ReadSuppression(reader));
        return Task.FromResult<IReadOnlyList<Suppression>>(entries);
    }

    public Task<bool> RemoveSuppressionAsync(string address, CancellationToken cancellationToken) => _writer.RunAsync(store =>
        store.Execute("DELETE FROM suppressions WHERE address = $address", ("$address", address)) == 1, cancellationToken);

    public Task<SuppressionPage> ListSuppressionsAsync(SuppressionQuery query, CancellationToken cancellationToken)
    {
        // Keyset paging by address: the cursor is the last address of the page before, so a page never repeats or skips
        // an entry when others are added or removed meanwhile. Filters are in SQL, so a page is full whenever it can be.
        using var connection = Open();
        using var command = Command(connection, """
            SELECT address, reason, source, client, at, list FROM suppressions
            WHERE address > $after AND ($source IS NULL OR source = $source) AND ($client IS NULL OR client = $client)
                AND ($reason IS NULL OR instr(lower(reason), lower($reason)) > 0)
                AND ($address IS NULL OR instr(address, lower($address)) > 0)
            ORDER BY address LIMIT $limit
            """, ("$after", query.Cursor ?? ""), ("$source", query.Source), ("$client", query.Client), ("$reason", query.ReasonContains),
            ("$address", query.AddressContains), ("$limit", query.Limit + 1));
        using var reader = command.ExecuteReader();
        var items = new List<Suppression>();
        while (reader.Read())
            items.Add(ReadSuppression(reader));
        var more = items.Count > query.Limit;
        if (more)
            items.RemoveAt(items.Count - 1);
        return Task.FromResult(new SuppressionPage(items, more ? items[^1].Key : null));
    }

    private static Suppression ReadSuppression(SqliteDataReader reader) =>
        new(SuppressedAddress.AddressOfKey(reader.GetString(0)), reader.GetString(1), reader.GetString(2), reader.IsDBNull(3) ? null : reader.GetString(3),
            DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(4)), reader.IsDBNull(5) ? null : reader.GetString(5));
}
