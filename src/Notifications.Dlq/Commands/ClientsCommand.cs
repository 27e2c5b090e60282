using System.Globalization;
using System.Text.Json;
using Notifications.Core.Clients;
using Notifications.Core.Reputation;
using Notifications.Core.Store;
using Notifications.Dlq.Cli;

namespace Notifications.Dlq.Commands;

/// <summary>
/// <c>dlq clients</c>: each configured client's hard-bounce and complaint rates over its last recipients, and whether the
/// reputation guard paused it; <c>dlq clients resume NAME</c> ends a pause and starts the client's window afresh.
/// </summary>
public static class ClientsCommand
{
    public static async Task<int> RunAsync(IReputation store, ClientsOptions clients, ReputationOptions reputation, DlqArguments args,
        TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        if (args.Action == "resume")
        {
            var name = args.Ids[0];
            if (!clients.ByName.ContainsKey(name))
            {
                error.WriteLine($"dlq: no client named '{name}' is configured (Clients:{name})");
                return ExitCodes.NotFound;
            }
            var wasPaused = await store.ResumeClientAsync(name, cancellationToken);
            output.WriteLine(wasPaused
                ? $"resumed {name}: it may send again (API instances see it within a second); its window starts afresh"
                : $"{name} was not paused; its window starts afresh");
            return ExitCodes.Done;
        }

        var rows = new List<(string Name, ReputationState State, ReputationOptions Settings)>();
        foreach (var (name, settings) in clients.ByName.OrderBy(c => c.Key, StringComparer.Ordinal))
        {
            var effective = reputation.For(settings);
            rows.Add((name, await store.RecordReputationAsync(name, 0, [], effective.Window, cancellationToken), effective));
        }
        if (args.Json)
        {
            output.WriteLine(JsonSerializer.Serialize(rows.Select(r => new
            {
                client = r.Name,
                mode = clients.ByName[r.Name].Mode.Equals(ClientModes.Test, StringComparison.OrdinalIgnoreCase) ? "test" : "live",
                state = State(r.State, r.Settings),
                recipients = r.State.Judged,
                bounces = r.State.Bounces,
                bounceRate = r.State.BounceRate,
                complaints = r.State.Complaints,
                complaintRate = r.State.ComplaintRate,
                maxBounceRate = r.Settings.MaxBounceRate,
                maxComplaintRate = r.Settings.MaxComplaintRate,
                pausedAt = r.State.PausedAt,
                reason = r.State.PausedReason,
            })));
            return ExitCodes.Done;
        }
        var table = new TextTable("CLIENT", "STATE", "RECIPIENTS", "BOUNCES", "COMPLAINTS", "LIMITS", "SINCE", "REASON");
        foreach (var (name, state, settings) in rows)
            table.Add(clients.ByName[name].Mode.Equals(ClientModes.Test, StringComparison.OrdinalIgnoreCase) ? name + " (test)" : name, State(state, settings), $"{state.Judged} of last {settings.Window}",
                string.Create(CultureInfo.InvariantCulture, $"{state.Bounces} ({state.BounceRate:P1})"),
                string.Create(CultureInfo.InvariantCulture, $"{state.Complaints} ({state.ComplaintRate:P2})"),
                string.Create(CultureInfo.InvariantCulture, $"{settings.MaxBounceRate:P1} / {settings.MaxComplaintRate:P2} from {settings.MinSent}"),
                state.PausedAt?.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture) ?? "", state.PausedReason ?? "");
        table.WriteTo(output);
        output.WriteLine($"{rows.Count} client(s), {rows.Count(r => r.State.Paused)} paused");
        return ExitCodes.Done;
    }

    private static string State(ReputationState state, ReputationOptions settings) =>
        state.Paused ? "paused" : settings.Enabled ? "sending" : "sending (guard off)";
}
