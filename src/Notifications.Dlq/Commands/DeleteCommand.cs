using Notifications.Dlq.Cli;

namespace Notifications.Dlq.Commands;

/// <summary><c>dlq delete</c>: removes dead letters for good; <c>--all</c> asks first.</summary>
public static class DeleteCommand
{
    public static async Task<int> RunAsync(DlqContext context, DlqArguments args, CancellationToken cancellationToken)
    {
        await using var dlq = await context.OpenDeadLettersAsync(cancellationToken);
        var letters = await dlq.ReadAsync(int.MaxValue, cancellationToken);
        var chosen = args.All ? letters : letters.Where(l => args.Ids.Contains(l.Id)).ToList();
        var missing = args.Ids.Where(id => letters.All(l => l.Id != id)).ToList();
        foreach (var id in missing)
            context.Err.WriteLine($"dlq: no dead letter with id {id} in {context.DeadQueue}");

        if (args.All && !args.Yes)
        {
            if (!context.IsTerminal)
            {
                context.Err.WriteLine($"dlq: refusing to delete all {chosen.Count} dead letter(s) without a terminal to confirm; add --yes");
                return ExitCodes.Usage;
            }
            context.Out.Write($"Delete all {chosen.Count} dead letter(s) in {context.DeadQueue} for good? Type 'yes': ");
            if (context.ReadLine()?.Trim() != "yes")
            {
                context.Out.WriteLine("nothing deleted");
                return ExitCodes.Done;
            }
        }

        foreach (var letter in chosen)
            await dlq.RemoveAsync(letter, cancellationToken);
        context.Out.WriteLine($"{chosen.Count} dead letter(s) deleted");
        return missing.Count > 0 ? ExitCodes.NotFound : ExitCodes.Done;
    }
}
