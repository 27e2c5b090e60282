using System.Buffers;
using Notifications.Dlq.Cli;

namespace Notifications.Dlq.Commands;

/// <summary><c>dlq export</c>: every dead letter as JSONL (body and headers), streamed as read, the queue left as it was.</summary>
public static class ExportCommand
{
    public static async Task<int> RunAsync(DlqContext context, DlqArguments args, CancellationToken cancellationToken)
    {
        await using var dlq = await context.OpenDeadLettersAsync(cancellationToken);
        if (args.Out is null)
        {
            await foreach (var letter in dlq.StreamAsync(int.MaxValue, cancellationToken))
            {
                dlq.Keep(letter);
                context.Out.WriteLine(DeadLetters.ExportFormat.ToLine(letter));
            }
            await dlq.ReturnRestAsync();
            return ExitCodes.Done;
        }
        // Written aside and renamed, so a failed export never leaves a half file under the asked name.
        var temporary = args.Out + ".partial";
        var count = 0;
        using (var progress = context.Progress("exported"))
        await using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 64 * 1024, useAsync: true))
        {
            // Each line written as UTF-8 into one buffer and out to the file, no string per letter.
            var line = new ArrayBufferWriter<byte>(4_096);
            await using var json = new System.Text.Json.Utf8JsonWriter(line);
            await foreach (var letter in dlq.StreamAsync(int.MaxValue, cancellationToken))
            {
                dlq.Keep(letter);
                line.ResetWrittenCount();
                json.Reset(line);
                DeadLetters.ExportFormat.Write(json, letter);
                json.Flush();
                line.Write("\n"u8);
                await file.WriteAsync(line.WrittenMemory, cancellationToken);
                count++;
                progress.Add();
            }
        }
        await dlq.ReturnRestAsync();
        File.Move(temporary, args.Out, overwrite: true);
        context.Err.WriteLine($"{count} dead letter(s) exported to {args.Out}");
        return ExitCodes.Done;
    }
}
