namespace Notifications.Core.Topology;

/// <summary>
/// Names of the broker objects (docs/operating.md, the management UI). The prefix goes in front of every
/// exchange and queue name; routing keys stay as the contract spells them.
/// </summary>
public sealed class TopologyNames(string prefix)
{
    public const string SendKey = "email.send";
    public const string HighKey = "email.send.high";
    public const string DeadKey = "email.dead";
    public const string WebhookSendKey = "webhook.send";
    public const string WebhookDeadKey = "webhook.dead";
    public const string InboundKey = "email.inbound";
    public const string InboundUnparsedKey = "email.inbound.unparsed";
    public const string MessageLogKey = "message.log";
    public const int WebhookRetryQueueCount = 5;
    public const int RetryQueueCount = 3;

    /// <summary>Deliveries of one job before the broker dead-letters it: a guard against crash loops.</summary>
    public const int DeliveryLimit = 20;

    /// <summary>
    /// What <c>email.inbound</c> holds at most before the receiver answers <c>451 4.3.2</c> (reject-publish): a stream
    /// of junk to the MX waits at the sender's side, never on the broker's disk, which the API and worker share.
    /// </summary>
    public const int InboundMaxLength = 10_000;

    public const long InboundMaxBytes = 512L * 1024 * 1024;

    /// <summary>What <c>email.inbound.unparsed</c> keeps for an operator: the newest 256 MiB (drop-head), for 14 days.</summary>
    public const long UnparsedMaxBytes = 256L * 1024 * 1024;

    public const long UnparsedTtlMs = 14L * 24 * 3600 * 1000;

    /// <summary>
    /// What <c>message.log</c> holds at most while its store is away: 1 GiB of entries (a day of a busy deployment). Past
    /// that the broker refuses more (reject-publish) and the entries are dropped and counted, never the mail held.
    /// </summary>
    public const long MessageLogMaxBytes = 1024L * 1024 * 1024;

    public string Prefix { get; } = prefix;
    public string Exchange { get; } = prefix + "notifications";
    public string SendQueue { get; } = prefix + SendKey;
    public string HighQueue { get; } = prefix + HighKey;
    public string DeadQueue { get; } = prefix + DeadKey;
    public string WebhookSendQueue { get; } = prefix + WebhookSendKey;
    public string WebhookDeadQueue { get; } = prefix + WebhookDeadKey;

    /// <summary>Raw messages the inbound receiver took (bounces, complaints), for the worker to read.</summary>
    public string InboundQueue { get; } = prefix + InboundKey;

    /// <summary>What came back and could not be read or matched to a job: kept for an operator.</summary>
    public string InboundUnparsedQueue { get; } = prefix + InboundUnparsedKey;

    /// <summary>Entries for the message log, waiting for its writer (docs/message-log.md).</summary>
    public string MessageLogQueue { get; } = prefix + MessageLogKey;

    public static string WebhookRetryKey(int attempt) => attempt is >= 1 and <= WebhookRetryQueueCount
        ? $"webhook.retry.{attempt}"
        : throw new ArgumentOutOfRangeException(nameof(attempt), attempt, $"webhook retry queues are 1..{WebhookRetryQueueCount}");

    public string WebhookRetryQueue(int attempt) => Prefix + WebhookRetryKey(attempt);

    public static string WorkKey(Lane lane) => lane == Lane.High ? HighKey : SendKey;

    public string WorkQueue(Lane lane) => Prefix + WorkKey(lane);

    /// <summary><c>email.retry.N</c> for the normal lane, <c>email.retry.high.N</c> for the high one.</summary>
    public static string RetryKey(int attempt, Lane lane = Lane.Normal) => attempt is >= 1 and <= RetryQueueCount
        ? lane == Lane.High ? $"email.retry.high.{attempt}" : $"email.retry.{attempt}"
        : throw new ArgumentOutOfRangeException(nameof(attempt), attempt, $"retry queues are 1..{RetryQueueCount}");

    public string RetryQueue(int attempt, Lane lane = Lane.Normal) => Prefix + RetryKey(attempt, lane);
}
