using Notifications.Core.Broker;

namespace Notifications.Core.DeadLetters;

/// <summary>
/// The replay loop of the <c>dlq</c> tool and the console: up to <c>inFlight</c> publishes awaiting their confirm at once;
/// each letter's <c>afterEach</c> (removing it from the DLQ) runs only once its own copy is confirmed, so a replay stopped
/// anywhere leaves every message in the work queue or still in the DLQ. After the first refusal no new publish starts;
/// those already out finish. What follows a replay is announced a batch at a time beside it, a few batches behind at most.
/// </summary>
public static class DeadLetterReplay
{
    /// <summary>Replayed letters announced together (events, statuses, webhooks): what the replay holds in memory for that.</summary>
    public const int AnnounceBatch = 1_000;

    /// <param name="publish">puts one letter back, returning once the broker confirmed it.</param>
    /// <param name="afterEach">runs after a letter's confirm (removes it from the DLQ).</param>
    /// <param name="remember">what a replayed letter's announcement needs of it, kept until its batch is announced.</param>
    /// <param name="announce">tells what follows a replay, for a batch of replayed letters.</param>
    /// <returns>how many were replayed, and why it stopped (null: all done).</returns>
    public static async Task<(int Replayed, string? Stop)> RunAsync(IAsyncEnumerable<DeadLetter> letters, int inFlight,
        Func<DeadLetter, CancellationToken, Task> publish, Func<DeadLetter, Task> afterEach, Func<DeadLetter, ReplayedLetter> remember,
        Func<IReadOnlyList<ReplayedLetter>, CancellationToken, Task> announce, CancellationToken cancellationToken)
    {
        var batch = new List<ReplayedLetter>(AnnounceBatch);
        var replayed = 0;
        string? stop = null;
        var toAnnounce = System.Threading.Channels.Channel.CreateBounded<List<ReplayedLetter>>(2);
        var announcer = Task.Run(async () =>
        {
            await foreach (var full in toAnnounce.Reader.ReadAllAsync(CancellationToken.None))
                await announce(full, cancellationToken);
        }, CancellationToken.None);
        using var window = new SemaphoreSlim(inFlight, inFlight);
        try
        {
            await foreach (var letter in letters)
            {
                await window.WaitAsync(cancellationToken);
                if (Volatile.Read(ref stop) is not null)
                {
                    window.Release();
                    break;
                }
                _ = ReplayOneAsync(letter); // awaited below through the window: every permit back means every send finished
                List<ReplayedLetter>? full = null;
                lock (batch)
                    if (batch.Count >= AnnounceBatch)
                    {
                        full = [.. batch];
                        batch.Clear();
                    }
                if (full is not null)
                    await toAnnounce.Writer.WriteAsync(full, cancellationToken);
            }
        }
        finally
        {
            for (var i = 0; i < inFlight; i++)
                await window.WaitAsync(CancellationToken.None);
            await toAnnounce.Writer.WriteAsync([.. batch], CancellationToken.None);
            toAnnounce.Writer.Complete();
            await announcer;
        }
        return (replayed, stop);

        async Task ReplayOneAsync(DeadLetter letter)
        {
            try
            {
                await publish(letter, cancellationToken);
                await afterEach(letter);
                Interlocked.Increment(ref replayed);
                var kept = remember(letter);
                lock (batch)
                    batch.Add(kept);
            }
            catch (Exception ex)
            {
                // A refused publish, a lost channel, an interrupt: no new publish starts; this letter stays in the DLQ.
                Interlocked.CompareExchange(ref stop, $"stopped at {letter.Id}: {(ex is PublishFailedException ? ex.Message : ex.GetBaseException().Message)}", null);
            }
            finally
            {
                window.Release();
            }
        }
    }
}
