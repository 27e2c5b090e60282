using Microsoft.AspNetCore.Mvc;
using Notifications.Api.Console;
using Notifications.Core.Store;
using Notifications.Core.Suppressions;

namespace Notifications.Api.Pages.Console;

/// <summary>The suppression list: search by address and source, a page at a time; add an address; remove an entry.</summary>
public sealed class SuppressionsModel(ISuppressions suppressions, OperatorActions actions, TimeProvider clock) : ConsolePage
{
    public const int PageSize = 50;

    public string? Search { get; private set; }
    public string? Source { get; private set; }
    public SuppressionPage Entries { get; private set; } = new([], null);
    public string? Message { get; private set; }
    public string? Problem { get; private set; }
    public static readonly string[] Sources = [Suppression.Bounce, Suppression.Complaint, Suppression.Unsubscribe, Suppression.Manual];

    public async Task OnGetAsync(string? q, string? source, string? after, CancellationToken cancellationToken)
    {
        Message = TakeNotice();
        await LoadAsync(q, source, after, cancellationToken);
    }

    public async Task<IActionResult> OnPostAddAsync(string? address, string? reason, CancellationToken cancellationToken)
    {
        if (SuppressedAddress.Normalize(address) is not { } plain)
            return await RefuseAsync($"'{Clean(address)}' is not an email address.", cancellationToken);
        if (Clean(reason) is not { } why)
            return await RefuseAsync("Say why the address is suppressed.", cancellationToken);
        await suppressions.AddSuppressionAsync(new Suppression(plain, why, Suppression.Manual, null, clock.GetUtcNow()), cancellationToken);
        await actions.RecordAsync(Operator, "suppressed", plain);
        return RedirectWithNotice($"/console/suppressions?q={Uri.EscapeDataString(plain)}", $"{plain} is suppressed for every client.");
    }

    public async Task<IActionResult> OnPostRemoveAsync(string? key, CancellationToken cancellationToken)
    {
        if (Clean(key) is not { } entry || !await suppressions.RemoveSuppressionAsync(entry, cancellationToken))
            return await RefuseAsync("That entry is not on the list (removed already?).", cancellationToken);
        await actions.RecordAsync(Operator, "removed the suppression of", entry);
        return RedirectWithNotice("/console/suppressions", $"{SuppressedAddress.AddressOfKey(entry)} may be mailed again.");
    }

    private async Task<IActionResult> RefuseAsync(string problem, CancellationToken cancellationToken)
    {
        Problem = problem;
        Response.StatusCode = StatusCodes.Status400BadRequest;
        await LoadAsync(null, null, null, cancellationToken);
        return Page();
    }

    private async Task LoadAsync(string? q, string? source, string? after, CancellationToken cancellationToken)
    {
        Search = Clean(q)?.ToLowerInvariant();
        Source = Sources.Contains(Clean(source)) ? Clean(source) : null;
        Entries = await suppressions.ListSuppressionsAsync(new SuppressionQuery(Clean(after), PageSize, Source, AddressContains: Search), cancellationToken);
    }
}
