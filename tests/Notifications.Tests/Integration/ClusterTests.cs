using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Notifications.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Notifications.Tests.Integration;

/// <summary>The service on a real three-node cluster (<c>scripts/cluster.sh</c>): losing a node costs a few seconds, never a job.</summary>
public sealed class ClusterTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Losing_the_node_api_and_worker_are_connected_to_costs_seconds_of_503_and_every_202_job_is_mailed_once()
    {
        var hosts = ClusterEnvironment.Hosts();
        await using var pipeline = await Pipeline.StartAsync(configure: s =>
        {
            s["RabbitMq:Uri"] = $"amqp://guest:guest@{hosts[0]}/";
            for (var i = 0; i < hosts.Count; i++)
                s[$"RabbitMq:Hosts:{i}"] = hosts[i];
        });
        var workerNode = await ClusterEnvironment.NodeOfConnectionAsync("notifications-worker")
            ?? throw new InvalidOperationException("the worker's connection is on no node");
        var apiNode = await ClusterEnvironment.NodeOfConnectionAsync("notifications-api");
        var accepted = new List<string>();
        var unavailable = new List<DateTimeOffset>();
        var clock = Stopwatch.StartNew();
        int? killed = null;
        var leaderNode = 0;
        var lastRefusal = "";
        var windows = new List<TimeSpan>();
        DateTimeOffset? refusedSince = null;
        try
        {
            // 2,000 jobs accepted, however long the failovers take (at most two minutes): the worker's node dies after
            // 300, comes back after 800, and then the node leading email.send dies after 1,200.
            for (var i = 0; accepted.Count < 2_000 && clock.Elapsed < TimeSpan.FromSeconds(120); i++)
            {
                if (accepted.Count == 300 && killed is null)
                {
                    await ClusterEnvironment.KillAsync(workerNode);
                    killed = workerNode;
                }
                else if (accepted.Count == 800 && killed == workerNode)
                {
                    await ClusterEnvironment.StartAsync(workerNode);
                    killed = 0;
                }
                else if (accepted.Count == 1_200 && killed == 0)
                {
                    leaderNode = await ClusterEnvironment.LeaderOfAsync(pipeline.Names.SendQueue, workerNode);
                    await ClusterEnvironment.KillAsync(leaderNode);
                    killed = leaderNode;
                }
                using var response = await pipeline.Http.PostAsJsonAsync("/api/send-email", Jobs.Valid($"cluster {i}"));
                if (response.StatusCode == HttpStatusCode.Accepted)
                {
                    accepted.Add((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!);
                    if (refusedSince is { } since)
                    {
                        windows.Add(DateTimeOffset.UtcNow - since); // from the first 503 of a streak to the next 202
                        refusedSince = null;
                    }
                }
                else if (response.StatusCode == HttpStatusCode.ServiceUnavailable)
                {
                    unavailable.Add(DateTimeOffset.UtcNow);
                    refusedSince ??= DateTimeOffset.UtcNow;
                    lastRefusal = await response.Content.ReadAsStringAsync();
                }
                else
                    Assert.Fail($"job {i}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                await Task.Delay(5);
            }
        }
        finally
        {
            if (killed is > 0)
                await ClusterEnvironment.StartAsync(killed.Value);
        }

        await Eventually.TrueAsync(() => accepted.All(pipeline.Relay.AcceptedJobIds.Contains), "every 202 job at the relay", TimeSpan.FromSeconds(120));
        var window = windows.Count == 0 ? TimeSpan.Zero : windows.Max();
        Assert.True(accepted.Count == 2_000, $"{accepted.Count} accepted (worker on node {workerNode}, API on node {apiNode}, leader {leaderNode}); " +
            $"the last 503: {lastRefusal}");
        output.WriteLine($"worker on node {workerNode}, API on node {apiNode}; node {workerNode} killed after 300 jobs and back after 800, " +
            $"then the leader of email.send, node {leaderNode}, killed after 1,200: " +
            $"{accepted.Count} jobs accepted, {unavailable.Count} answered 503 in {windows.Count} window(s) of " +
            $"{string.Join(", ", windows.Select(w => $"{w.TotalSeconds:0.0} s"))}; " +
            $"{pipeline.Relay.Accepted.Count} mails at the relay; {clock.Elapsed.TotalSeconds:0} s in all");
        var mailed = pipeline.Relay.AcceptedJobIds.GroupBy(id => id).ToDictionary(g => g.Key, g => g.Count());
        Assert.All(accepted, id => Assert.Equal(1, mailed[id]));
        Assert.True(window < TimeSpan.FromSeconds(15), $"the API answered 503 for {window.TotalSeconds:0.0} s in a row");
        await using var connection = await ClusterEnvironment.ConnectAsync();
        await using var channel = await connection.CreateChannelAsync();
        Assert.Equal(0u, (await channel.QueueDeclarePassiveAsync(pipeline.Names.DeadQueue)).MessageCount);
    }

    [Fact]
    public async Task Three_workers_sharing_redis_on_the_cluster_drain_3000_jobs_each_mailed_once_and_all_three_take_part()
    {
        var hosts = ClusterEnvironment.Hosts();
        var redis = await RedisEnvironment.ConnectionAsync();
        // Each worker sends to its own relay, so the test sees how the work was spread.
        await using var second = new TestRelay();
        await using var third = new TestRelay();
        await using var pipeline = await Pipeline.StartAsync(worker: false, configure: s =>
        {
            s["RabbitMq:Uri"] = $"amqp://guest:guest@{hosts[0]}/";
            for (var i = 0; i < hosts.Count; i++)
                s[$"RabbitMq:Hosts:{i}"] = hosts[i];
            s["Store:Kind"] = "Redis";
            s["Store:Redis"] = redis.Configuration;
        });
        var ids = new List<string>();
        for (var i = 0; i < 3_000; i++)
            ids.Add(await Jobs.PostAndGetIdAsync(pipeline.Http, Jobs.Valid($"spread {i}")));

        await pipeline.StartWorkerAsync();
        await pipeline.StartAnotherWorkerAsync(s => s["Smtp:Port"] = second.Port.ToString());
        await pipeline.StartAnotherWorkerAsync(s => s["Smtp:Port"] = third.Port.ToString());
        var relays = new[] { pipeline.Relay, second, third };
        await Eventually.TrueAsync(() => relays.Sum(r => r.Accepted.Count) >= 3_000, "3,000 mails", TimeSpan.FromSeconds(120));
        await Eventually.NeverAsync(() => relays.Sum(r => r.Accepted.Count) > 3_000, "a duplicate mail", TimeSpan.FromSeconds(1));

        var mailed = relays.SelectMany(r => r.AcceptedJobIds).ToList();
        output.WriteLine($"3,000 jobs on the cluster by three workers: {string.Join(" / ", relays.Select(r => r.Accepted.Count))} mails");
        Assert.Equal(ids.Order(), mailed.Order()); // each once
        Assert.All(relays, r => Assert.True(r.Accepted.Count > 0, "a worker took no job"));
    }

    [Fact]
    public async Task A_node_lost_for_good_leaves_a_service_that_keeps_working_on_two_nodes()
    {
        var hosts = ClusterEnvironment.Hosts();
        await using var pipeline = await Pipeline.StartAsync(configure: s =>
        {
            s["RabbitMq:Uri"] = $"amqp://guest:guest@{hosts[0]}/";
            for (var i = 0; i < hosts.Count; i++)
                s[$"RabbitMq:Hosts:{i}"] = hosts[i];
        });
        var before = new List<string>();
        for (var i = 0; i < 100; i++)
            before.Add(await Jobs.PostAndGetIdAsync(pipeline.Http, Jobs.Valid($"before {i}")));
        await Eventually.TrueAsync(() => before.All(pipeline.Relay.AcceptedJobIds.Contains), "the first 100 mails");

        var after = new List<string>();
        var refused = 0;
        TimeSpan? refusedAt = null, window = null;
        await ClusterEnvironment.LoseAsync(3);
        try
        {
            var clock = Stopwatch.StartNew();
            while (after.Count < 300 && clock.Elapsed < TimeSpan.FromSeconds(60))
            {
                using var response = await pipeline.Http.PostAsJsonAsync("/api/send-email", Jobs.Valid($"after {after.Count}"));
                if (response.StatusCode == HttpStatusCode.Accepted)
                {
                    after.Add((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!);
                    if (refusedAt is { } since && window is null)
                        window = clock.Elapsed - since;
                }
                else
                {
                    refused++;
                    refusedAt ??= clock.Elapsed;
                }
                await Task.Delay(5);
            }
            await Eventually.TrueAsync(() => after.All(pipeline.Relay.AcceptedJobIds.Contains), "the 300 mails on two nodes", TimeSpan.FromSeconds(60));
        }
        finally
        {
            await ClusterEnvironment.ReplaceAsync(3); // the other cluster tests need three nodes again
        }

        output.WriteLine($"node 3 lost for good: 300 jobs accepted on the two left; {refused} refused (503) over " +
            $"{window?.TotalSeconds ?? 0:0.0} s while the clients moved; each mailed once");
        Assert.Equal(300, after.Count);
        var mailed = pipeline.Relay.AcceptedJobIds.GroupBy(id => id).ToDictionary(g => g.Key, g => g.Count());
        Assert.All(before.Concat(after), id => Assert.Equal(1, mailed[id]));
    }
}
