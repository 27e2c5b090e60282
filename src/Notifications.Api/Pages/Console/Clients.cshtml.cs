using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Notifications.Api.Console;
using Notifications.Core.Clients;
using Notifications.Core.Reputation;
using Notifications.Core.Store;

namespace Notifications.Api.Pages.Console;

/// <summary>Each client's rate, webhook, bounce and complaint rates over its window, and whether it is paused (resume here).</summary>
public sealed class ClientsModel(ClientRegistry clients, IOptions<ClientsOptions> clientOptions, IOptions<ReputationOptions> reputation,
    IReputation store, OperatorActions actions) : ConsolePage
{
    public sealed record Row(Client Client, ReputationOptions Settings, ReputationState State);

    public List<Row> Rows { get; } = [];
    public string? Message { get; private set; }

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        Message = TakeNotice();
        foreach (var client in clients.All.OrderBy(c => c.Name, StringComparer.Ordinal))
        {
            var settings = reputation.Value.For(clientOptions.Value.ByName.GetValueOrDefault(client.Name));
            Rows.Add(new Row(client, settings, await store.RecordReputationAsync(client.Name, 0, [], settings.Window, cancellationToken)));
        }
    }

    public async Task<IActionResult> OnPostResumeAsync(string? client, CancellationToken cancellationToken)
    {
        if (clients.Find(client) is not { } found)
            return NotFound();
        var wasPaused = await store.ResumeClientAsync(found.Name, cancellationToken);
        await actions.RecordAsync(Operator, "resumed", found.Name, wasPaused ? 1 : 0);
        var message = wasPaused ? $"{found.Name} may send again (every API instance sees it within a second); its window starts afresh."
            : $"{found.Name} was not paused; its window starts afresh.";
        return RedirectWithNotice("/console/clients", message);
    }
}
