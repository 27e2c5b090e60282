namespace Notifications.Bench.Peer;

/// <summary>The job as the peer's API receives it and its consumer gets it: the same JSON as POST /api/send-email.</summary>
public sealed record PeerJob
{
    public string? Id { get; init; }
    public string[]? To { get; init; }
    public string? Subject { get; init; }
    public string? Text { get; init; }
    public string? Html { get; init; }
    public Dictionary<string, string>? Metadata { get; init; }
}
