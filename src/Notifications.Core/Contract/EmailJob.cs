namespace Notifications.Core.Contract;

/// <summary>
/// The job as it travels through the broker: the HTTP request plus <c>id</c> and <c>createdAt</c>.
/// The API fills in <see cref="From"/> when the client left it out, so a job always names its sender.
/// </summary>
public sealed record EmailJob
{
    public string? Id { get; init; }
    public DateTimeOffset? CreatedAt { get; init; }
    public IReadOnlyList<string?>? To { get; init; }
    public IReadOnlyList<string?>? Cc { get; init; }
    public IReadOnlyList<string?>? Bcc { get; init; }
    public string? From { get; init; }
    public string? ReplyTo { get; init; }
    public string? Subject { get; init; }
    public string? Text { get; init; }
    public string? Html { get; init; }
    public IReadOnlyDictionary<string, string?>? Headers { get; init; }
    public IReadOnlyDictionary<string, string?>? Metadata { get; init; }

    public IEnumerable<string> AllRecipients() =>
        (To ?? []).Concat(Cc ?? []).Concat(Bcc ?? []).OfType<string>();
}
