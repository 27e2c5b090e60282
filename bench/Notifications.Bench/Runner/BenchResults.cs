namespace Notifications.Bench;

/// <summary>What the stages measured; null where a stage was left out (<c>--only</c>).</summary>
public sealed class BenchResults
{
    public (double Publish, double Consume)? BrokerCeiling { get; set; }
    public double? RelayCeiling { get; set; }
    public PipelineResult? Pipeline { get; set; }

    /// <summary>The pipeline alone over <c>--memory-count</c> jobs, for its working sets.</summary>
    public PipelineResult? Memory { get; set; }
    public PeerResult? Peer { get; set; }
    public FairPeerResult? FairPeer { get; set; }
    public List<DlqResult>? Dlq { get; set; }
    public ThrottledResult? Throttled { get; set; }
    public PriorityResult? Priority { get; set; }
    public List<SuppressionLookupResult>? SuppressionLookups { get; set; }
    public WebhookResult? Webhooks { get; set; }
    public MixedSizeResult? Mixed { get; set; }
    public PipelineResult? Cluster { get; set; }
    public SigningResult? Signing { get; set; }
    public MessageLogResult? MessageLog { get; set; }
    public InboundResult? Inbound { get; set; }
    public List<SubmissionFigures>? Submission { get; set; }
    public ConsoleResult? Console { get; set; }

    /// <summary>The lower of the broker's and the relay's ceilings, when both were measured.</summary>
    public double? Ceiling => BrokerCeiling is { } b && RelayCeiling is { } r ? Math.Min(b.Consume, Math.Min(b.Publish, r)) : null;

    /// <summary>Every stage that checks it delivered each job exactly once said so.</summary>
    public bool ExactlyOnceEverywhere =>
        (Pipeline is null || (Pipeline.ExactlyOnce == "ok" && Pipeline.Errors == 0
            && Pipeline.EachSideAlone?.ExactlyOnce is null or "ok" && Pipeline.UnderAFlood?.ExactlyOnce is null or "ok"))
        && (Dlq?.All(d => d.ExactlyOnce == "ok") ?? true) && Throttled?.ExactlyOnce is null or "ok"
        && Priority?.ExactlyOnce is null or "ok" && Webhooks?.ExactlyOnce is null or "ok"
        && Mixed?.ExactlyOnce is null or "ok" && Cluster?.ExactlyOnce is null or "ok" && Signing?.ExactlyOnce is null or "ok"
        && Console?.ExactlyOnce is null or "ok" && FairPeer?.ExactlyOnce is null or "ok"
        && (MessageLog is null || new[] { MessageLog.Off, MessageLog.Sqlite, MessageLog.OffAgain }.Concat(MessageLog.Postgres is { } p ? [p] : [])
            .All(r => r.ExactlyOnce == "ok"))
        && (Memory is null || (Memory.ExactlyOnce == "ok" && Memory.Errors == 0));
}
