namespace Notifications.Bench;

/// <summary>What every stage works with: the options, the broker, the sink, a prefix of its own, and where results go.</summary>
public sealed class BenchContext(BenchOptions options, Uri broker, string root, string prefix, BenchSink sink, IReadOnlyList<string> clusterHosts)
{
    public BenchOptions Options => options;
    public Uri Broker => broker;
    public string Root => root;

    /// <summary>Put before every queue name of this run; a stage adds its own part (<see cref="PrefixFor"/>).</summary>
    public string Prefix => prefix;

    public BenchSink Sink => sink;
    public IReadOnlyList<string> ClusterHosts => clusterHosts;
    public Uri? ClusterUri => clusterHosts.Count > 0 ? new Uri($"amqp://guest:guest@{clusterHosts[0]}/") : null;
    public BenchResults Results { get; } = new();

    private readonly List<(Uri Broker, string Prefix)> _used = [(broker, prefix)];

    /// <summary>A prefix of the stage's own, remembered so the run deletes what the stage made on that broker.</summary>
    public string PrefixFor(string stage, Uri? on = null)
    {
        var own = $"{prefix}{stage}.";
        lock (_used)
            _used.Add((on ?? broker, own));
        return own;
    }

    public IReadOnlyList<(Uri Broker, string Prefix)> UsedPrefixes
    {
        get
        {
            lock (_used)
                return [.. _used];
        }
    }
}
