using Notifications.Dlq.Cli;

namespace Notifications.Dlq.Commands;

/// <summary><c>dlq delete</c>: removes dead letters for good, streamed as read; <c>--all</c> asks first.</summary>
public static class DeleteCommand
{
    public static async Task<int> RunAsync(DlqContext context, DlqArguments args, CancellationToken cancellationToken)
    {
        await using var dlq = await context.OpenDeadLettersAsync(cancellationToken);
        if (args.All && !args.Yes)
        {
            var count = await dlq.CountAsync(cancellationToken);
            if (!context.IsTerminal)
            {
                context.Err.WriteLine($"dlq: refusing to delete all {count} dead letter(s) without a terminal to confirm; add --yes");
                return ExitCodes.Usage;
            }
            context.Out.Write($"Delete all {count} dead letter(s) in {context.DeadQueue} for good? Type 'yes': ");
            if (context.ReadLine()?.Trim() != "yes")
            {
                context.Out.WriteLine("nothing deleted");
                return ExitCodes.Done;
            }
        }

        var found = new HashSet<string>(StringComparer.Ordinal);
        var deleted = 0;
        var deletedIds = new List<string>();
        await foreach (var letter in dlq.StreamAsync(int.MaxValue, cancellationToken))
        {
            if (!args.All && !args.Ids.Contains(letter.Id))
            {
                dlq.Keep(letter); // stays where it is
                continue;
            }
            found.Add(letter.Id);
            await dlq.RemoveAsync(letter, cancellationToken);
            deleted++;
            deletedIds.Add(letter.Id);
            if (!args.All && found.Count == args.Ids.Count)
                break;
        }
        await dlq.ReturnRestAsync();
        await context.ForgetAsync(deletedIds, cancellationToken);
        foreach (var id in args.Ids.Where(id => !found.Contains(id)))
            context.Err.WriteLine($"dlq: no dead letter with id {id} in {context.DeadQueue}");
        context.Out.WriteLine($"{deleted} dead letter(s) deleted");
        return args.Ids.Any(id => !found.Contains(id)) ? ExitCodes.NotFound : ExitCodes.Done;
    }
}
