using Microsoft.AspNetCore.Mvc;
using Notifications.Api.Console;
using Notifications.Core.DeadLetters;
using Notifications.Core.Store;
using Notifications.Core.Suppressions;

namespace Notifications.Api.Pages.Console;

/// <summary>
/// Find a job: by its id, its page in the message log (its timeline is the log's); by a recipient's address, what is known
/// of it — its messages (a link to the log's search), the dead letters that name it, and its suppression.
/// </summary>
public sealed class JobsModel(DeadLetterView view, ISuppressions suppressions) : ConsolePage
{
    public string? Query { get; private set; }
    public bool IsAddress { get; private set; }
    public IReadOnlyList<DeadLetterEntry> DeadLettersOfRecipient { get; private set; } = [];
    public int DeadLettersOfRecipientCount { get; private set; }
    public IReadOnlyList<Suppression> SuppressionsOfRecipient { get; private set; } = [];

    public async Task<IActionResult> OnGetAsync(string? q, CancellationToken cancellationToken)
    {
        Query = Clean(q);
        if (Query is null)
            return Page();
        if (!Query.Contains('@'))
            return Redirect("/console/messages/" + Uri.EscapeDataString(Query));
        {
            IsAddress = true;
            var matching = (await view.LoadedAsync(cancellationToken)).Entries
                .Where(entry => entry.Recipients.Contains(Query, StringComparison.OrdinalIgnoreCase)).ToList();
            DeadLettersOfRecipientCount = matching.Count;
            DeadLettersOfRecipient = matching.Take(100).ToList();
            if (SuppressedAddress.Normalize(Query) is { } address)
            {
                var page = await suppressions.ListSuppressionsAsync(new SuppressionQuery(Limit: 50, AddressContains: address), cancellationToken);
                SuppressionsOfRecipient = page.Items.Where(entry => entry.Address == address).ToList();
            }
        }
        return Page();
    }
}
