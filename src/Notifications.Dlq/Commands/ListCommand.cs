using Notifications.Core.DeadLetters;
using System.Globalization;
using System.Text.Json;
using Notifications.Core.Topology;
using Notifications.Dlq.Cli;

namespace Notifications.Dlq.Commands;

/// <summary><c>dlq list</c> and <c>dlq list --group</c>: read, show, put everything back in place.</summary>
public static class ListCommand
{
    public static async Task<int> RunAsync(DlqContext context, DlqArguments args, CancellationToken cancellationToken)
    {
        var letters = await context.SnapshotAsync(args.Group ? int.MaxValue : args.Limit ?? int.MaxValue, cancellationToken);

        if (args.Group)
            WriteGroups(context, args, letters);
        else
            WriteLetters(context, args, letters);
        return ExitCodes.Done;
    }

    private static void WriteLetters(DlqContext context, DlqArguments args, List<DeadLetter> letters)
    {
        if (args.Json)
        {
            context.Out.WriteLine(JsonSerializer.Serialize(letters.Select(l => new
            {
                id = l.Id, lane = l.Lane.ToWire(), kind = l.Kind, attempts = l.Attempts, replays = l.Replays, diedAt = l.DiedAt,
                to = l.Recipients, subject = l.Subject, lastError = l.LastError, group = FailureGroups.Key(l),
            })));
            return;
        }
        var table = new TextTable("ID", "LANE", "KIND", "ATTEMPTS", "DIED", "TO", "SUBJECT", "LAST ERROR");
        foreach (var l in letters)
            table.Add(l.Id, l.Lane.ToWire(), l.Kind, l.Attempts.ToString(CultureInfo.InvariantCulture), Time(l.DiedAt), l.Recipients, l.Subject, l.LastError);
        table.WriteTo(context.Out);
        context.Out.WriteLine($"{letters.Count} dead letter(s) shown from {context.DeadQueue}");
    }

    private static void WriteGroups(DlqContext context, DlqArguments args, List<DeadLetter> letters)
    {
        var groups = letters
            .GroupBy(FailureGroups.Key)
            .Select(g => new
            {
                key = g.Key,
                kind = g.First().Kind,
                count = g.Count(),
                error = FailureGroups.Normalize(g.First().LastError),
                firstDied = g.Min(l => l.DiedAt),
                lastDied = g.Max(l => l.DiedAt),
                example = g.First().Id,
            })
            .OrderByDescending(g => g.count)
            .Take(args.Limit ?? int.MaxValue)
            .ToList();
        if (args.Json)
        {
            context.Out.WriteLine(JsonSerializer.Serialize(groups));
            return;
        }
        var table = new TextTable("GROUP", "COUNT", "KIND", "FIRST DIED", "LAST DIED", "ERROR (normalized)");
        foreach (var g in groups)
            table.Add(g.key, g.count.ToString(CultureInfo.InvariantCulture), g.kind, Time(g.firstDied), Time(g.lastDied), g.error);
        table.WriteTo(context.Out);
        context.Out.WriteLine($"{letters.Count} dead letter(s) in {groups.Count} group(s); replay one with: dlq replay --group GROUP");
    }

    public static string Time(DateTimeOffset? at) =>
        at?.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture) ?? "";
}
