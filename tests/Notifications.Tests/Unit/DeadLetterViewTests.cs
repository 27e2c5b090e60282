using Microsoft.Extensions.Logging.Abstractions;
using Notifications.Api.Console;
using Notifications.Core.DeadLetters;
using Notifications.Core.Store;

namespace Notifications.Tests.Unit;

/// <summary>The console's copy of the dead-letter index while the API reads it after a start.</summary>
public sealed class DeadLetterViewTests
{
    [Fact]
    public async Task A_page_before_the_first_load_is_told_the_index_is_loading_and_a_count_to_confirm_waits_for_it()
    {
        var index = new HeldIndex();
        var view = new DeadLetterView(index, NullLogger<DeadLetterView>.Instance);

        var page = await view.CurrentAsync(CancellationToken.None); // the load is held: the page is answered anyway
        var confirm = view.LoadedAsync(CancellationToken.None);

        Assert.True(page.Loading);
        Assert.Empty(page.Entries);
        Assert.False(confirm.IsCompleted);
        index.Release(Entry("a"), Entry("b"));
        var loaded = await confirm;
        Assert.False(loaded.Loading);
        Assert.Equal(2, loaded.Entries.Count);
        var after = await view.CurrentAsync(CancellationToken.None);
        Assert.Equal((false, 2), (after.Loading, after.Entries.Count));
        Assert.Equal(1, index.Loads); // one load, shared by everyone who asked meanwhile
    }

    private static DeadLetterEntry Entry(string id) => new(id, "transient", "SMTP 451 4.3.0 later", "405da66a", "SMTP 451 4.3.0 later", "",
        "example.com", "a@example.com", "Hello", DateTimeOffset.UnixEpoch, 4, 0, "normal");

    /// <summary>An index whose load does not finish until the test says so.</summary>
    private sealed class HeldIndex : IDeadLetterIndex
    {
        private readonly TaskCompletionSource<IReadOnlyList<DeadLetterEntry>> _load = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public int Loads;

        public void Release(params DeadLetterEntry[] entries) => _load.SetResult(entries);

        public Task<IReadOnlyList<DeadLetterEntry>> LoadDeadLettersAsync(CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref Loads);
            return _load.Task;
        }

        public Task<long> DeadLetterIndexVersionAsync(CancellationToken cancellationToken) => Task.FromResult(1L);

        public Task IndexDeadLettersAsync(IReadOnlyCollection<IndexedDeadLetter> letters, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("the view only reads");

        public Task RemoveDeadLettersAsync(IReadOnlyCollection<string> ids, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("the view only reads");

        public Task<IndexedDeadLetter?> GetDeadLetterAsync(string id, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("the view only reads");
    }
}
