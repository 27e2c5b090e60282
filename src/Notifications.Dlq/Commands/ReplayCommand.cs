using Notifications.Core.Broker;
using Notifications.Core.Contract;
using Notifications.Dlq.Cli;
using Notifications.Dlq.DeadLetters;

namespace Notifications.Dlq.Commands;

/// <summary>
/// <c>dlq replay</c>: each chosen dead letter is published to <c>email.send</c> with a confirm and
/// only then removed from the DLQ, so a replay stopped midway leaves every message in one of the two.
/// </summary>
public static class ReplayCommand
{
    public static async Task<int> RunAsync(DlqContext context, DlqArguments args, CancellationToken cancellationToken)
    {
        if (args.From is not null)
            return await ReplayFileAsync(context, args, cancellationToken);

        await using var dlq = await context.OpenDeadLettersAsync(cancellationToken);
        // Streamed: each chosen letter is published as it arrives and removed once confirmed; the others stay in place.
        var found = new HashSet<string>(StringComparer.Ordinal);
        var chosen = dlq.StreamAsync(int.MaxValue, cancellationToken).Where(letter =>
        {
            if (args.Ids.Contains(letter.Id))
                found.Add(letter.Id);
            if (Chosen(letter, args) && !args.DryRun)
                return true;
            dlq.Keep(letter); // stays where it is
            return args.DryRun && Chosen(letter, args);
        });

        if (args.DryRun)
        {
            var count = 0;
            await foreach (var letter in chosen)
            {
                context.Out.WriteLine($"would replay {letter.Id} ({letter.Kind}, replays so far {letter.Replays})");
                count++;
            }
            ReportMissing(context, args, found);
            context.Out.WriteLine($"{count} dead letter(s) would be replayed; nothing changed");
            return args.Ids.Count > found.Count ? ExitCodes.NotFound : ExitCodes.Done;
        }

        context.PrepareAnnouncements(cancellationToken);
        var (replayed, stop) = await ReplayAsync(context, chosen, InFlight, async letter =>
        {
            await dlq.RemoveAsync(letter, cancellationToken);
            lock (context.Out) // replays finish concurrently; a TextWriter is not made for that
                context.Out.WriteLine($"replayed {letter.Id} ({letter.Kind}) from {context.DeadQueue} to {context.ReplayTarget}");
        }, cancellationToken);
        ReportMissing(context, args, found);
        if (stop is not null)
        {
            context.Err.WriteLine($"dlq: replay {stop}. {replayed} replayed; the rest is still in {context.DeadQueue}");
            return ExitCodes.Failure;
        }
        context.Out.WriteLine($"{replayed} dead letter(s) replayed to {context.ReplayTarget}");
        return args.Ids.Count > found.Count ? ExitCodes.NotFound : ExitCodes.Done;
    }

    private static void ReportMissing(DlqContext context, DlqArguments args, HashSet<string> found)
    {
        foreach (var id in args.Ids.Where(id => !found.Contains(id)))
            context.Err.WriteLine($"dlq: no dead letter with id {id} in {context.DeadQueue}");
    }

    /// <summary>Publishes awaiting their confirm at once while replaying the DLQ: one at a time, a replay waited a round trip per message.</summary>
    private const int InFlight = 2_000;

    /// <summary>Replayed letters announced together (events, statuses, webhooks): what the replay holds in memory for that.</summary>
    private const int AnnounceBatch = 1_000;

    /// <summary>
    /// Replays with up to <paramref name="inFlight"/> publishes awaiting their confirm; each letter's
    /// <paramref name="afterEach"/> (removing it from the DLQ) runs only once its own copy is confirmed, so a replay
    /// stopped anywhere leaves every message in the work queue or still in the DLQ. After the first refusal no new
    /// publish starts; those already out finish. What follows a replay is announced a batch at a time as it goes.
    /// </summary>
    /// <returns>how many were replayed, and why it stopped (null: all done).</returns>
    private static async Task<(int Replayed, string? Stop)> ReplayAsync(DlqContext context, IAsyncEnumerable<DeadLetter> letters,
        int inFlight, Func<DeadLetter, Task> afterEach, CancellationToken cancellationToken)
    {
        var batch = new List<DeadLetter>(AnnounceBatch);
        var replayed = 0;
        string? stop = null;
        // Announcing runs beside the replay, a few batches behind at most: the replay's pace is the broker's, not the events'.
        var toAnnounce = System.Threading.Channels.Channel.CreateBounded<List<DeadLetter>>(2);
        var announcer = Task.Run(async () =>
        {
            await foreach (var full in toAnnounce.Reader.ReadAllAsync(CancellationToken.None))
                await context.AnnounceReplaysAsync(full, cancellationToken);
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
                List<DeadLetter>? full = null;
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
                await context.ReplayAsync(letter, cancellationToken);
                await afterEach(letter);
                Interlocked.Increment(ref replayed);
                lock (batch)
                    batch.Add(letter);
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

    private static bool Chosen(DeadLetter letter, DlqArguments args) =>
        args.All && (args.Kind is null || letter.Kind == args.Kind.Value.ToWire())
        || args.GroupKey is not null && FailureGroups.Key(letter) == args.GroupKey
        || args.Ids.Contains(letter.Id);

    /// <summary>Replays an export: every line is read and checked before anything is published.</summary>
    private static async Task<int> ReplayFileAsync(DlqContext context, DlqArguments args, CancellationToken cancellationToken)
    {
        if (!File.Exists(args.From))
            throw new DlqFailure($"no such file: {args.From}");
        var letters = new List<DeadLetter>();
        var number = 0;
        foreach (var line in await File.ReadAllLinesAsync(args.From, cancellationToken))
        {
            number++;
            if (!string.IsNullOrWhiteSpace(line))
                letters.Add(ExportFormat.FromLine(line, number));
        }

        if (args.DryRun)
        {
            foreach (var letter in letters)
                context.Out.WriteLine($"would replay {letter.Id} from {args.From}");
            context.Out.WriteLine($"{letters.Count} message(s) would be replayed from {args.From}; nothing changed");
            return ExitCodes.Done;
        }
        // One at a time: a stop then leaves exactly the first lines replayed, which the message below can name.
        var (replayed, stop) = await ReplayAsync(context, letters.ToAsyncEnumerable(), inFlight: 1, _ => Task.CompletedTask, cancellationToken);
        if (stop is not null)
        {
            context.Err.WriteLine($"dlq: replay from {args.From} {stop}. {replayed} of {letters.Count} replayed (the first {replayed} lines)");
            return ExitCodes.Failure;
        }
        context.Out.WriteLine($"{replayed} message(s) replayed from {args.From} to {context.ReplayTarget}");
        return ExitCodes.Done;
    }
}
