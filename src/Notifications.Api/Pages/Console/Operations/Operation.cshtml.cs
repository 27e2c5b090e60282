using Microsoft.AspNetCore.Mvc;
using Notifications.Api.Console;
using Notifications.Core.Store;

namespace Notifications.Api.Pages.Console.Operations;

/// <summary>
/// An operation's progress (the page reloads itself each second while it runs, no script), then its result: how many
/// moved and how many failed, and for a replay what became of the jobs since.
/// </summary>
public sealed class OperationModel(ConsoleOperations operations, IJobStatuses statuses) : ConsolePage
{
    public ConsoleOperation Operation { get; private set; } = null!;

    /// <summary>For a finished replay: the replayed jobs' statuses now, counted.</summary>
    public IReadOnlyList<(string Status, int Count)> Since { get; private set; } = [];

    public async Task<IActionResult> OnGetAsync(string id, CancellationToken cancellationToken)
    {
        if (operations.Find(id) is not { } operation)
            return NotFound();
        Operation = operation;
        if (!operation.Running && operation.Action == "replay")
        {
            var counts = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var jobId in operation.Replayed.Take(ConsoleOperation.ReplayedKept))
            {
                var status = await statuses.GetStatusAsync(jobId, cancellationToken);
                var name = status?.Status ?? "unknown";
                counts[name] = counts.GetValueOrDefault(name) + 1;
            }
            Since = [.. counts.OrderByDescending(pair => pair.Value).Select(pair => (pair.Key, pair.Value))];
        }
        return Page();
    }
}
