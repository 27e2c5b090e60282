using Notifications.Core.DeadLetters;
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
        using var progress = context.Progress("replayed");
        var (replayed, stop) = await ReplayAsync(context, chosen, InFlight, async letter =>
        {
            await dlq.RemoveAsync(letter, cancellationToken);
            progress.Add();
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

    private static Task<(int Replayed, string? Stop)> ReplayAsync(DlqContext context, IAsyncEnumerable<DeadLetter> letters,
        int inFlight, Func<DeadLetter, Task> afterEach, CancellationToken cancellationToken) =>
        DeadLetterReplay.RunAsync(letters, inFlight, context.ReplayAsync, afterEach, context.RememberReplay, context.AnnounceReplaysAsync,
            cancellationToken);

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
