using System.Globalization;
using System.Text.Json;
using Notifications.Core.Store;
using Notifications.Core.Suppressions;
using Notifications.Dlq.Cli;

namespace Notifications.Dlq.Commands;

/// <summary>
/// <c>dlq suppressions list|add|remove</c>: the operator's hand on the suppression list, in the deployment's job store.
/// An operator sees every entry; what it adds belongs to the deployment (no client).
/// </summary>
public static class SuppressionsCommand
{
    private const int PageSize = 500;

    public static async Task<int> RunAsync(ISuppressions store, DlqArguments args, TextWriter output, TextWriter error,
        TimeProvider clock, CancellationToken cancellationToken) => args.Action switch
    {
        "list" => await ListAsync(store, args, output, cancellationToken),
        "add" => await AddAsync(store, args, output, error, clock, cancellationToken),
        _ => await RemoveAsync(store, args, output, error, cancellationToken),
    };

    private static async Task<int> ListAsync(ISuppressions store, DlqArguments args, TextWriter output, CancellationToken cancellationToken)
    {
        var limit = args.Limit ?? int.MaxValue;
        var entries = new List<Suppression>();
        string? cursor = null;
        do
        {
            var page = await store.ListSuppressionsAsync(new SuppressionQuery(cursor, Math.Min(PageSize, limit - entries.Count), args.Source), cancellationToken);
            entries.AddRange(page.Items);
            cursor = page.Next;
        }
        while (cursor is not null && entries.Count < limit);

        if (args.Json)
        {
            output.WriteLine(JsonSerializer.Serialize(entries.Select(e => new { address = e.Address, reason = e.Reason, source = e.Source, client = e.Client, at = e.At })));
            return ExitCodes.Done;
        }
        var table = new TextTable("ADDRESS", "SOURCE", "CLIENT", "SINCE", "REASON");
        foreach (var e in entries)
            table.Add(e.Address, e.Source, e.Client ?? "", e.At.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture), e.Reason);
        table.WriteTo(output);
        output.WriteLine($"{entries.Count} suppressed address(es){(cursor is null ? "" : $" shown; more after {cursor} (raise --limit)")}");
        return ExitCodes.Done;
    }

    private static async Task<int> AddAsync(ISuppressions store, DlqArguments args, TextWriter output, TextWriter error, TimeProvider clock,
        CancellationToken cancellationToken)
    {
        if (SuppressedAddress.Normalize(args.Ids[0]) is not { } address)
        {
            error.WriteLine($"dlq: '{args.Ids[0]}' is not one email address");
            return ExitCodes.Usage;
        }
        var reason = Core.Contract.JobCodec.OneLine(args.Reason!);
        await store.AddSuppressionAsync(new Suppression(address, reason, Suppression.Manual, null, clock.GetUtcNow()), cancellationToken);
        output.WriteLine($"suppressed {address} ({reason})");
        return ExitCodes.Done;
    }

    private static async Task<int> RemoveAsync(ISuppressions store, DlqArguments args, TextWriter output, TextWriter error,
        CancellationToken cancellationToken)
    {
        var missing = 0;
        foreach (var given in args.Ids)
        {
            var address = SuppressedAddress.Normalize(given);
            if (address is not null && await store.RemoveSuppressionAsync(address, cancellationToken))
            {
                output.WriteLine($"removed {address}: it is mailed again");
                continue;
            }
            missing++;
            error.WriteLine(address is null ? $"dlq: '{given}' is not one email address" : $"dlq: {address} is not suppressed");
        }
        return missing == 0 ? ExitCodes.Done : ExitCodes.NotFound;
    }
}
