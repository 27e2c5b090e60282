using Notifications.Dlq.Cli;
using Notifications.Dlq.DeadLetters;

namespace Notifications.Dlq.Commands;

/// <summary><c>dlq export</c>: every dead letter as JSONL (body and headers), the queue left as it was.</summary>
public static class ExportCommand
{
    public static async Task<int> RunAsync(DlqContext context, DlqArguments args, CancellationToken cancellationToken)
    {
        var letters = await context.SnapshotAsync(int.MaxValue, cancellationToken);

        if (args.Out is null)
        {
            foreach (var letter in letters)
                context.Out.WriteLine(ExportFormat.ToLine(letter));
            return ExitCodes.Done;
        }
        // Written aside and renamed, so a failed export never leaves a half file under the asked name.
        var temporary = args.Out + ".partial";
        await using (var file = new StreamWriter(temporary))
        {
            foreach (var letter in letters)
                await file.WriteLineAsync(ExportFormat.ToLine(letter).AsMemory(), cancellationToken);
        }
        File.Move(temporary, args.Out, overwrite: true);
        context.Err.WriteLine($"{letters.Count} dead letter(s) exported to {args.Out}");
        return ExitCodes.Done;
    }
}
