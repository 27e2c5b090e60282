using System.Diagnostics;
using RabbitMQ.Client;

namespace Notifications.Tests.Infrastructure;

/// <summary>
/// The three-node cluster of <c>scripts/cluster.sh</c> (started by <c>scripts/test.sh</c>, state in
/// <c>NOTIFICATIONS_CLUSTER_DIR</c>): its nodes, a connection to any of them, and node kill/start.
/// </summary>
public static class ClusterEnvironment
{
    private static string Script => Path.Combine(FindRoot(), "scripts", "cluster.sh");

    /// <summary>host:port of each node, node 1 first.</summary>
    public static IReadOnlyList<string> Hosts()
    {
        var hosts = Environment.GetEnvironmentVariable("RABBITMQ_CLUSTER_HOSTS")
            ?? throw new InvalidOperationException("RABBITMQ_CLUSTER_HOSTS is not set: run the tests through scripts/test.sh, which starts the cluster");
        return hosts.Split(',', StringSplitOptions.RemoveEmptyEntries);
    }

    public static async Task<IConnection> ConnectAsync() =>
        await new ConnectionFactory { UserName = "guest", Password = "guest", AutomaticRecoveryEnabled = true }
            .CreateConnectionAsync(Hosts().Select(h => new AmqpTcpEndpoint(h.Split(':')[0], int.Parse(h.Split(':')[1]))).ToList());

    public static Task KillAsync(int node) => RunAsync("kill", node.ToString());

    /// <summary>The node (1-3) that leads a quorum queue now, asked of node <paramref name="askNode"/>.</summary>
    public static async Task<int> LeaderOfAsync(string queue, int askNode)
    {
        var listing = await RunAsync("ctl", askNode.ToString(), "list_queues", "name", "leader", "--no-table-headers", "--quiet");
        var line = listing.Split('\n').FirstOrDefault(l => l.Split('\t')[0].Trim() == queue)
            ?? throw new InvalidOperationException($"no queue {queue} on the cluster: {listing}");
        var leader = line.Split('\t')[1].Trim(); // notif-cluster-N@localhost
        return int.Parse(leader["notif-cluster-".Length..leader.IndexOf('@')], System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// The node (1-3) a connection whose name contains <paramref name="namePart"/> is open to: the client picks a node
    /// of its list at random, so a test finds out rather than assumes.
    /// </summary>
    public static async Task<int?> NodeOfConnectionAsync(string namePart)
    {
        var ports = Hosts().Select(h => h.Split(':')[1]).ToList();
        for (var node = 1; node <= ports.Count; node++)
        {
            var listing = await RunAsync("ctl", node.ToString(), "list_connections", "port", "client_properties", "--no-table-headers", "--quiet");
            foreach (var line in listing.Split('\n'))
                if (line.Contains(namePart, StringComparison.Ordinal) && ports.IndexOf(line.Split('\t')[0].Trim()) is var index and >= 0)
                    return index + 1;
        }
        return null;
    }

    public static Task StartAsync(int node) => RunAsync("start", node.ToString());

    /// <summary>Node lost for good: killed, its data removed, forgotten by the others.</summary>
    public static Task LoseAsync(int node) => RunAsync("lose", node.ToString());

    /// <summary>A new, empty node in its place joins, and every quorum queue grows a member on it.</summary>
    public static Task ReplaceAsync(int node) => RunAsync("replace", node.ToString());

    private static async Task<string> RunAsync(params string[] args)
    {
        var start = new ProcessStartInfo("bash", [Script, .. args]) { RedirectStandardError = true, RedirectStandardOutput = true };
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        var result = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"cluster.sh {string.Join(' ', args)} failed: {await error}");
        return result;
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Notifications.sln")))
                return dir.FullName;
        throw new InvalidOperationException("Notifications.sln not found above " + AppContext.BaseDirectory);
    }
}
