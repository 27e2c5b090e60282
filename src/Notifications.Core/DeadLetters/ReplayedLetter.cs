namespace Notifications.Core.DeadLetters;

/// <summary>
/// What is announced about a letter once it is back in the work queue: enough for its event, status and callback. A replay
/// holds a few thousand of these while they wait for their batch; holding the letters themselves (headers, properties,
/// bodies), a replay of 100,000 had 20-39 MB in the oldest generation after each collection and 47-68 MB committed
/// (with these: 2-15 MB and 27-43 MB; working set 135-148 → 106-123 MB).
/// </summary>
/// <param name="Replays">the letter's replays before this one.</param>
/// <param name="Body">the job, only where its callback needs it.</param>
public sealed record ReplayedLetter(string Id, int Replays, string? Client, bool IsInbound, byte[]? Body)
{
    public static ReplayedLetter Of(DeadLetter letter, bool withBody) =>
        new(letter.Id, letter.Replays, letter.Client, letter.IsInbound, withBody ? letter.Body : null);
}
