using System.Text;
using Notifications.Core.Store;

namespace Notifications.Core.DeadLetters;

/// <summary>What the console's index holds of a dead letter (<see cref="DeadLetterEntry"/>, <see cref="DeadLetterDetail"/>), read off the message itself.</summary>
public static class DeadLetterIndexing
{
    /// <summary>The entry and the detail, as the worker writes them when it parks a job in the DLQ.</summary>
    public static IndexedDeadLetter Index(DeadLetter letter, DateTimeOffset now) => new(Entry(letter, now), Detail(letter));

    /// <summary>The entry of a dead letter, read off its headers and body.</summary>
    public static DeadLetterEntry Entry(DeadLetter letter, DateTimeOffset now)
    {
        var job = letter.Job;
        var recipients = letter.Recipients;
        var first = job?.AllRecipients().FirstOrDefault() ?? recipients.Split(',', 2)[0].Trim();
        var at = first.LastIndexOf('@');
        var domain = at >= 0 ? first[(at + 1)..].TrimEnd('>', ' ').ToLowerInvariant() : "";
        return new DeadLetterEntry(letter.Id, letter.Kind, FailureGroups.Normalize(letter.LastError), FailureGroups.Key(letter),
            Clip(letter.LastError, 2_000), letter.Client ?? "", domain, Clip(recipients, 2_000), Clip(letter.Subject, 500),
            letter.DiedAt ?? now, letter.Attempts, letter.Replays, letter.Lane.ToString().ToLowerInvariant());
    }

    public static DeadLetterDetail Detail(DeadLetter letter)
    {
        var headers = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in letter.Headers ?? new Dictionary<string, object?>())
            if (!name.StartsWith("x-death", StringComparison.Ordinal))
                headers[name] = Broker.HeaderValues.AsString(value) ?? "";
        if (letter.Properties.Type is { } type)
            headers["type"] = type;
        var clipped = letter.Body.Length > DeadLetterDetail.MaxBody;
        var body = Encoding.UTF8.GetString(letter.Body, 0, Math.Min(letter.Body.Length, DeadLetterDetail.MaxBody));
        return new DeadLetterDetail(headers, body, clipped);
    }

    private static string Clip(string text, int max) => text.Length <= max ? text : text[..max];
}
