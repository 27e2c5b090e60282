using Microsoft.AspNetCore.Mvc;
using Notifications.Api.Console;
using Notifications.Core.DeadLetters;

namespace Notifications.Api.Pages.Console.DeadLetters;

/// <summary>
/// The count to confirm before a replay, a delete or a rebuild of the index; the POST starts it and goes to its progress.
/// </summary>
public sealed class ConfirmModel(DeadLetterView view, ConsoleOperations operations) : ConsolePage
{
    public string Action { get; private set; } = "";
    public DeadLetterFilter Filter { get; private set; } = new();
    public int Matching { get; private set; }
    public string? Problem { get; private set; }

    public async Task<IActionResult> OnGetAsync(string? action, string? kind, string? reason, string? domain, string? client, string? q, string? id,
        CancellationToken cancellationToken)
    {
        if (!await ReadAsync(action, kind, reason, domain, client, q, id, cancellationToken))
            return BadRequestPage();
        return Page();
    }

    public async Task<IActionResult> OnPostAsync(string? action, string? kind, string? reason, string? domain, string? client, string? q, string? id,
        CancellationToken cancellationToken)
    {
        if (!await ReadAsync(action, kind, reason, domain, client, q, id, cancellationToken))
            return BadRequestPage();
        var operation = operations.Start(Action, Filter, Operator, Matching);
        return Redirect($"/console/operations/{operation.Id}");
    }

    private IActionResult BadRequestPage()
    {
        Response.StatusCode = StatusCodes.Status400BadRequest;
        return Page();
    }

    private async Task<bool> ReadAsync(string? action, string? kind, string? reason, string? domain, string? client, string? q, string? id,
        CancellationToken cancellationToken)
    {
        Action = action ?? "";
        if (Action is not ("replay" or "delete" or "reindex"))
        {
            Problem = "Choose replay, delete or reindex.";
            return false;
        }
        var snapshot = await view.LoadedAsync(cancellationToken);
        if (Action == "reindex")
        {
            Matching = snapshot.Entries.Count;
            return true;
        }
        Filter = IndexModel.FilterOf(kind, reason, domain, client, q, id);
        Matching = Filter.IsEmpty ? snapshot.Entries.Count : snapshot.Entries.Count(Filter.Matches);
        if (Matching == 0)
        {
            Problem = $"No dead letter matches {Filter.Describe()}: nothing to {Action}.";
            return false;
        }
        return true;
    }
}
