using Notifications.Core.DeadLetters;
using Notifications.Core.Store;

namespace Notifications.Api.Console;

/// <summary>
/// The console's reading of the dead-letter index: every entry in memory (100,000 take about 60 MB), loaded again only when
/// the index's version moved, newest first. Groups, filters, searches and pages run over that copy, so a page at 100,000
/// dead letters costs one version read and a scan in memory.
/// </summary>
public sealed class DeadLetterView(IDeadLetterIndex index)
{
    private readonly SemaphoreSlim _loading = new(1, 1);
    private Snapshot _snapshot = new(-1, []);

    public sealed record Snapshot(long Version, IReadOnlyList<DeadLetterEntry> Entries);

    public async Task<Snapshot> CurrentAsync(CancellationToken cancellationToken)
    {
        var version = await index.DeadLetterIndexVersionAsync(cancellationToken);
        if (_snapshot.Version == version)
            return _snapshot;
        await _loading.WaitAsync(cancellationToken);
        try
        {
            if (_snapshot.Version == version)
                return _snapshot;
            var entries = await index.LoadDeadLettersAsync(cancellationToken);
            var sorted = entries.OrderByDescending(entry => entry.DiedAt).ThenBy(entry => entry.Id, StringComparer.Ordinal).ToArray();
            return _snapshot = new Snapshot(version, sorted);
        }
        finally
        {
            _loading.Release();
        }
    }

    public sealed record Group(string Kind, string Reason, string Domain, string Client, int Count, DateTimeOffset FirstSeen, DateTimeOffset LastSeen)
    {
        public DeadLetterFilter Filter => new(Kind, Reason, Domain, Client);
    }

    /// <summary>The entries the filter matches, grouped by kind, reason, recipient domain and client, largest first.</summary>
    public static IReadOnlyList<Group> GroupsOf(IEnumerable<DeadLetterEntry> entries) =>
        entries.GroupBy(entry => (entry.Kind, entry.Reason, entry.Domain, entry.Client))
            .Select(group =>
            {
                var first = DateTimeOffset.MaxValue;
                var last = DateTimeOffset.MinValue;
                var count = 0;
                foreach (var entry in group)
                {
                    count++;
                    if (entry.DiedAt < first)
                        first = entry.DiedAt;
                    if (entry.DiedAt > last)
                        last = entry.DiedAt;
                }
                return new Group(group.Key.Kind, group.Key.Reason, group.Key.Domain, group.Key.Client, count, first, last);
            })
            .OrderByDescending(group => group.Count).ThenByDescending(group => group.LastSeen)
            .ToList();
}
