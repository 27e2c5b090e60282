using Notifications.Core.DeadLetters;
using System.Text.Json;
using System.Text.Json.Nodes;
using Notifications.Dlq.Cli;
using Notifications.Dlq.DeadLetters;

namespace Notifications.Dlq.Commands;

/// <summary><c>dlq show ID</c>: one dead letter in full, left where it is.</summary>
public static class ShowCommand
{
    public static async Task<int> RunAsync(DlqContext context, DlqArguments args, CancellationToken cancellationToken)
    {
        DeadLetter? letter = null;
        await using (var dlq = await context.OpenDeadLettersAsync(cancellationToken))
        {
            // Read until it comes, holding only that one; everything read goes back in place.
            await foreach (var read in dlq.StreamAsync(int.MaxValue, cancellationToken))
            {
                dlq.Keep(read);
                if (read.Id == args.Ids[0])
                {
                    letter = read;
                    break;
                }
            }
            await dlq.ReturnRestAsync();
        }
        if (letter is null)
        {
            context.Err.WriteLine($"dlq: no dead letter with id {args.Ids[0]} in {context.DeadQueue}");
            return ExitCodes.NotFound;
        }

        var line = JsonNode.Parse(ExportFormat.ToLine(letter))!.AsObject();
        line.Remove("body");
        line["group"] = FailureGroups.Key(letter);
        if (letter.IsInbound)
            line["message"] = letter.BodyText; // raw mail, as it came
        else
            line["job"] = TryParse(letter.BodyText);
        if (args.Json)
        {
            context.Out.WriteLine(line.ToJsonString());
            return ExitCodes.Done;
        }
        ShowSubmittedMessage(line);
        context.Out.WriteLine(line.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        return ExitCodes.Done;
    }

    /// <summary>A job submitted by SMTP carries its message in base64 (<c>raw</c>): a reader sees the message as text instead.</summary>
    private static void ShowSubmittedMessage(JsonObject line)
    {
        if (line["job"] is not JsonObject job || job["raw"] is not JsonValue raw || !raw.TryGetValue<string>(out var base64))
            return;
        try
        {
            var bytes = Convert.FromBase64String(base64);
            job["raw"] = $"({bytes.Length} bytes, the message submitted by SMTP: see \"message\")";
            line["message"] = System.Text.Encoding.UTF8.GetString(bytes);
        }
        catch (FormatException)
        {
            // Not base64: shown as it is.
        }
    }

    private static JsonNode? TryParse(string body)
    {
        try
        {
            return JsonNode.Parse(body);
        }
        catch (JsonException)
        {
            return JsonValue.Create(body); // poison: show it as it is
        }
    }
}
