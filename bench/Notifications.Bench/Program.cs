using Notifications.Bench;

// dotnet run -c Release --project bench/Notifications.Bench -- [--count 20000] [--clients 64] [--large] [--relay-delay-ms 0]
//   [--connections N (SMTP; concurrency and prefetch follow)] [--memory-count 100000] [--only broker,relay,pipeline,fairpeer,memory,peer,dlq,throttle,priority,suppressions,webhooks,mixed,signing,inbound,console,cluster] [--out FILE.json]
// One file per stage (Stages/), run in order by BenchRunner; bench/README.md has the figures of past runs.
BenchOptions options;
try
{
    options = BenchOptions.Parse(args);
}
catch (Exception ex) when (ex is ArgumentException or FormatException or OverflowException)
{
    Console.Error.WriteLine($"bench: {ex.Message}");
    return 2;
}
var broker = new Uri(Environment.GetEnvironmentVariable("RABBITMQ_URI")
    ?? throw new InvalidOperationException("set RABBITMQ_URI (scripts/bench.sh starts a throwaway broker)"));
var clusterHosts = Environment.GetEnvironmentVariable("RABBITMQ_CLUSTER_HOSTS")?.Split(',', StringSplitOptions.RemoveEmptyEntries) ?? [];
await using var sink = new BenchSink(TimeSpan.FromMilliseconds(options.RelayDelayMs));
var context = new BenchContext(options, broker, BenchOptions.FindRoot(), $"bench{DateTime.UtcNow:HHmmss}.", sink, clusterHosts);
return await BenchRunner.RunAsync(context);
