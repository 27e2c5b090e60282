using Notifications.Core.Store;

namespace Notifications.Core.DeadLetters;

/// <summary>
/// Rebuilds the console's index from the DLQ, the source of truth: every letter in the queue is written again (read
/// without taking it: all go back in their place), and entries of letters no longer there are removed. Letters parked
/// while it runs keep the entries the worker gave them.
/// </summary>
public static class DeadLetterIndexer
{
    private const int Batch = 500;

    /// <param name="progress">called with the count read so far, after each batch.</param>
    /// <returns>letters indexed, and stale entries removed.</returns>
    public static async Task<(int Indexed, int Removed)> RebuildAsync(DeadLetterQueue dlq, IDeadLetterIndex index, TimeProvider clock,
        Action<int>? progress, CancellationToken cancellationToken)
    {
        var before = (await index.LoadDeadLettersAsync(cancellationToken)).Select(entry => entry.Id).ToHashSet(StringComparer.Ordinal);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var batch = new List<IndexedDeadLetter>(Batch);
        var indexed = 0;
        await foreach (var letter in dlq.StreamAsync(int.MaxValue, cancellationToken))
        {
            dlq.Keep(letter);
            seen.Add(letter.Id);
            batch.Add(DeadLetterIndexing.Index(letter, clock.GetUtcNow()));
            if (batch.Count == Batch)
                await FlushAsync();
        }
        await FlushAsync();
        await dlq.ReturnRestAsync();
        var stale = before.Where(id => !seen.Contains(id)).ToList();
        foreach (var chunk in stale.Chunk(Batch))
            await index.RemoveDeadLettersAsync(chunk, cancellationToken);
        return (indexed, stale.Count);

        async Task FlushAsync()
        {
            if (batch.Count == 0)
                return;
            await index.IndexDeadLettersAsync(batch, cancellationToken);
            indexed += batch.Count;
            batch.Clear();
            progress?.Invoke(indexed);
        }
    }
}
