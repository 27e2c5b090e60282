using Notifications.Core.DeadLetters;
using Notifications.Core.Store;

namespace Notifications.Api.Console;

/// <summary>
/// The console's reading of the dead-letter index: every entry in memory, newest first, loaded again when the index's
/// version moved. Groups, filters, searches and pages run over that copy, so a page at 100,000 dead letters costs one
/// version read and a scan in memory. A reload of 100,000 entries takes seconds: a page waits for it at most
/// <see cref="FreshnessWait"/> and is otherwise served from the copy before it, saying so (<see cref="Snapshot.Stale"/>).
/// The first copy is loaded when the API starts (100,000 entries: 1-2 s); a page asked for before it is there waits at most
/// <see cref="FirstLoadWait"/> and then says the index is loading (<see cref="Snapshot.Loading"/>).
/// </summary>
public sealed class DeadLetterView(IDeadLetterIndex index, ILogger<DeadLetterView> logger) : BackgroundService
{
    /// <summary>How long a page waits for a reload before it is served from the copy it has.</summary>
    public static readonly TimeSpan FreshnessWait = TimeSpan.FromMilliseconds(300);

    /// <summary>How long a page waits for the first load before it says the index is loading.</summary>
    public static readonly TimeSpan FirstLoadWait = TimeSpan.FromMilliseconds(500);

    private readonly object _gate = new();
    private Snapshot _snapshot = Snapshot.Empty(loading: false);
    private Task<Snapshot>? _reload;

    /// <param name="Stale">the index changed and the reload is still running: this is the copy from before.</param>
    /// <param name="Loading">the first load since the API started is still running: no entries yet.</param>
    /// <param name="Groups">every entry's group, worked out once per load: the page most asked for, without a filter.</param>
    /// <param name="Kinds">the failure kinds present, for the filter's choices; <paramref name="Clients"/> likewise.</param>
    public sealed record Snapshot(long Version, IReadOnlyList<DeadLetterEntry> Entries, bool Stale, bool Loading,
        IReadOnlyList<Group> Groups, IReadOnlyList<string> Kinds, IReadOnlyList<string> Clients)
    {
        public static Snapshot Empty(bool loading) => new(-1, [], Stale: false, loading, [], [], []);

        public static Snapshot Of(long version, IReadOnlyList<DeadLetterEntry> entries) => new(version, entries, Stale: false, Loading: false,
            GroupsOf(entries),
            entries.Select(entry => entry.Kind).Distinct().Order(StringComparer.Ordinal).ToList(),
            entries.Select(entry => entry.Client).Distinct().Order(StringComparer.Ordinal).ToList());
    }

    /// <summary>The index for a page: the first load waited for at most <see cref="FirstLoadWait"/>.</summary>
    public Task<Snapshot> CurrentAsync(CancellationToken cancellationToken) => CurrentAsync(FirstLoadWait, cancellationToken);

    /// <summary>The index loaded, however long the first load takes: for a count an operator confirms.</summary>
    public Task<Snapshot> LoadedAsync(CancellationToken cancellationToken) => CurrentAsync(Timeout.InfiniteTimeSpan, cancellationToken);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await LoadedAsync(stoppingToken);
        }
        catch (Exception ex) when (StoreRegistration.IsStoreFailure(ex))
        {
            logger.LogWarning("The console's dead-letter index could not be loaded at start ({Reason}); the first page will try again", ex.Message);
        }
    }

    private async Task<Snapshot> CurrentAsync(TimeSpan firstLoadWait, CancellationToken cancellationToken)
    {
        var version = await index.DeadLetterIndexVersionAsync(cancellationToken);
        Task<Snapshot> reload;
        lock (_gate)
        {
            if (_snapshot.Version == version)
                return _snapshot;
            // On the thread pool: a store's load may not yield at all (SQLite reads synchronously), and it must not run under the lock.
            reload = _reload is { IsCompleted: false } running ? running : _reload = Task.Run(() => LoadAsync(version));
        }
        var first = _snapshot.Version < 0; // nothing to show before it
        var done = await Task.WhenAny(reload, Task.Delay(first ? firstLoadWait : FreshnessWait, cancellationToken));
        if (done == reload)
            return await reload;
        cancellationToken.ThrowIfCancellationRequested();
        return first ? Snapshot.Empty(loading: true) : _snapshot with { Stale = true };
    }

    private async Task<Snapshot> LoadAsync(long version)
    {
        var entries = await index.LoadDeadLettersAsync(CancellationToken.None);
        var sorted = entries.OrderByDescending(entry => entry.DiedAt).ThenBy(entry => entry.Id, StringComparer.Ordinal).ToArray();
        var loaded = Snapshot.Of(version, sorted);
        lock (_gate)
            if (loaded.Version > _snapshot.Version)
                _snapshot = loaded;
        return loaded;
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
