using Notifications.Core.DeadLetters;
using Notifications.Core.Store;

namespace Notifications.Dlq.Commands;

/// <summary><c>dlq reindex</c>: the console's index of <c>email.dead</c> rebuilt from the queue, which is left as it was.</summary>
public static class ReindexCommand
{
    public static async Task<int> RunAsync(DlqContext context, CancellationToken cancellationToken)
    {
        IJobStore store;
        try
        {
            store = await context.StoreAsync();
        }
        catch (Exception ex) when (StoreRegistration.IsStoreFailure(ex) || ex is StackExchange.Redis.RedisConnectionException)
        {
            context.Err.WriteLine($"dlq: the job store did not answer ({ex.GetBaseException().Message}); nothing changed");
            return ExitCodes.Failure;
        }
        await using var dlq = await context.OpenDeadLettersAsync(cancellationToken);
        using var progress = context.Progress("indexed");
        var (indexed, removed) = await DeadLetterIndexer.RebuildAsync(dlq, store, context.Clock, count => progress.Total(count), cancellationToken);
        context.Out.WriteLine($"{indexed} dead letter(s) in {context.DeadQueue} indexed; {removed} entr{(removed == 1 ? "y" : "ies")} of letters no longer there removed");
        return ExitCodes.Done;
    }
}
