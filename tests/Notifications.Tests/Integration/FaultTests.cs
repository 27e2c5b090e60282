using Notifications.Core.DeadLetters;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Notifications.Core.Broker;
using Notifications.Core.Contract;
using Notifications.Core.Topology;
using Notifications.Tests.Infrastructure;
using Notifications.Worker.Consuming;
using RabbitMQ.Client;
using Xunit.Abstractions;
using Notifications.Worker.Sending;

namespace Notifications.Tests.Integration;

/// <summary>The faults of the faults issue, done for real: relay down, worker killed or stopped, broker restarted, duplicates.</summary>
[Collection(FaultBrokerCollection.Name)]
public sealed class FaultTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Relay_outage_dead_letters_nothing_and_everything_goes_out_when_it_is_back()
    {
        TcpGate? relayGate = null;
        await using var pipeline = await Pipeline.StartAsync(configure: s =>
        {
            relayGate = new TcpGate(new IPEndPoint(IPAddress.Loopback, int.Parse(s["Smtp:Port"]!)));
            s["Smtp:Port"] = relayGate.Port.ToString();
            s["Smtp:CircuitBreakDuration"] = "00:00:00.500";
            s["Smtp:OutageHold"] = "00:00:02";
        });
        await using var gate = relayGate!;

        var ids = new List<string>();
        for (var i = 0; i < 6; i++)
            ids.Add(await Jobs.PostAndGetIdAsync(pipeline.Http, Jobs.Valid($"during the outage {i}")));

        // Longer than Smtp:OutageHold: the worker gives its deliveries back and stops consuming.
        var outage = pipeline.WorkerServices.GetRequiredService<RelayOutage>();
        await Eventually.TrueAsync(() => outage.IsPaused, "the worker to pause consuming");
        Assert.Equal(0u, await pipeline.Queues.CountAsync(pipeline.Names.DeadQueue));

        gate.Open();
        await Eventually.TrueAsync(() => pipeline.Relay.Accepted.Count >= 6, "all six mails after the relay is back");
        Assert.Equal(ids.Order(), pipeline.Relay.AcceptedJobIds.Order());
        Assert.Equal(0u, await pipeline.Queues.CountAsync(pipeline.Names.DeadQueue));
        Assert.False(outage.IsPaused);
    }

    [Fact]
    public async Task Stopping_the_worker_finishes_the_sends_in_flight_and_loses_nothing()
    {
        await using var pipeline = await Pipeline.StartAsync();
        pipeline.Relay.Delay = TimeSpan.FromMilliseconds(400);
        var ids = new List<string>();
        for (var i = 0; i < 6; i++)
            ids.Add(await Jobs.PostAndGetIdAsync(pipeline.Http, Jobs.Valid()));
        await Eventually.TrueAsync(() => pipeline.Relay.Attempts.Count >= 1, "the first send to start");

        await pipeline.StopWorkerAsync(); // what SIGTERM does

        Assert.Equal(pipeline.Relay.Attempts.Count, pipeline.Relay.Accepted.Count); // every started send finished
        Assert.True(pipeline.Relay.Accepted.Count >= 1);
        var waiting = await pipeline.Queues.CountAsync(pipeline.Names.SendQueue);
        Assert.Equal(6, pipeline.Relay.Accepted.Count + (int)waiting);

        await pipeline.StartWorkerAsync();
        await Eventually.TrueAsync(() => pipeline.Relay.Accepted.Count >= 6, "the rest after the restart");
        Assert.Equal(ids.Order(), pipeline.Relay.AcceptedJobIds.Order());
    }

    [Fact]
    public async Task Sigterm_lets_the_worker_process_finish_its_sends_and_exit_0()
    {
        await using var pipeline = await Pipeline.StartAsync(worker: false);
        pipeline.Relay.Delay = TimeSpan.FromMilliseconds(500);
        using var worker = ServiceProcess.StartWorker(pipeline.Settings);
        for (var i = 0; i < 4; i++)
            await Jobs.PostAndGetIdAsync(pipeline.Http, Jobs.Valid());
        await Eventually.TrueAsync(() => pipeline.Relay.Attempts.Count >= 1 || worker.HasExited, "the first send to start", TimeSpan.FromSeconds(60));
        Assert.False(worker.HasExited, worker.Output);

        worker.Terminate();
        await worker.WaitForExitAsync(TimeSpan.FromSeconds(15));

        Assert.True(worker.ExitCode == 0, worker.Output);
        Assert.Equal(pipeline.Relay.Attempts.Count, pipeline.Relay.Accepted.Count);
        Assert.Equal(4, pipeline.Relay.Accepted.Count + (int)await pipeline.Queues.CountAsync(pipeline.Names.SendQueue));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Worker_killed_mid_stream_loses_nothing(bool sameStore)
    {
        const int jobs = 60;
        await using var pipeline = await Pipeline.StartAsync(worker: false);
        pipeline.Relay.Delay = TimeSpan.FromMilliseconds(15);
        var ids = new List<string>();
        for (var i = 0; i < jobs; i++)
            ids.Add(await Jobs.PostAndGetIdAsync(pipeline.Http, Jobs.Valid($"job {i}")));

        using (var first = ServiceProcess.StartWorker(pipeline.Settings))
        {
            await Eventually.TrueAsync(() => pipeline.Relay.Accepted.Count >= jobs / 3 || first.HasExited, "a third of the mails", TimeSpan.FromSeconds(60));
            Assert.False(first.HasExited, first.Output);
            first.Kill();
            await first.WaitForExitAsync(TimeSpan.FromSeconds(10));
        }
        var settings = new Dictionary<string, string?>(pipeline.Settings);
        if (!sameStore)
            settings["Store:Path"] += ".other"; // a worker that knows nothing of what the first one sent
        using var second = ServiceProcess.StartWorker(settings);
        await Eventually.TrueAsync(() => pipeline.Relay.AcceptedJobIds.Distinct().Count() >= jobs, "every job delivered",
            TimeSpan.FromSeconds(60));

        Assert.Equal(ids.Order(), pipeline.Relay.AcceptedJobIds.Distinct().Order());
        var duplicates = pipeline.Relay.Accepted.Count - jobs;
        output.WriteLine($"kill -9 after {jobs / 3}+ of {jobs} mails, {(sameStore ? "with" : "without")} the sent markers: {duplicates} duplicate(s)");
        Assert.Equal(0u, await pipeline.Queues.CountAsync(pipeline.Names.DeadQueue));
    }

    [Fact]
    public async Task A_job_delivered_twice_is_mailed_once()
    {
        await using var pipeline = await Pipeline.StartAsync(api: false);
        var job = new EmailJob
        {
            Id = Guid.CreateVersion7().ToString(), CreatedAt = DateTimeOffset.UtcNow, From = "no-reply@example.com",
            To = ["alice@example.com"], Subject = "twice", Text = "once please",
        };

        await pipeline.Queues.PublishRawAsync("email.send", JobCodec.Encode(job), JobProperties.ForNewJob(job));
        await Eventually.TrueAsync(() => pipeline.Relay.Accepted.Count == 1, "the first copy mailed");
        await pipeline.Queues.PublishRawAsync("email.send", JobCodec.Encode(job), JobProperties.ForNewJob(job));
        await Eventually.ReturnsAsync(() => pipeline.Queues.CountAsync(pipeline.Names.SendQueue), n => n == 0, "the second copy acked");

        Assert.Single(pipeline.Relay.Accepted);
    }

    [Fact]
    public async Task Workers_sharing_redis_mail_a_duplicated_job_once()
    {
        var redis = await RedisEnvironment.ConnectionAsync();
        await using var pipeline = await Pipeline.StartAsync(api: false, configure: s =>
        {
            s["Store:Kind"] = "Redis";
            s["Store:Redis"] = redis.Configuration;
        });
        await pipeline.StartAnotherWorkerAsync();
        pipeline.Relay.Delay = TimeSpan.FromMilliseconds(300); // both copies are in flight at the same time
        var job = new EmailJob
        {
            Id = Guid.CreateVersion7().ToString(), CreatedAt = DateTimeOffset.UtcNow, From = "no-reply@example.com",
            To = ["alice@example.com"], Subject = "two workers", Text = "once please",
        };

        for (var i = 0; i < 2; i++)
            await pipeline.Queues.PublishRawAsync("email.send", JobCodec.Encode(job), JobProperties.ForNewJob(job));
        await Eventually.TrueAsync(() => pipeline.Relay.Accepted.Count == 1, "one mail");
        await Eventually.ReturnsAsync(() => pipeline.Queues.CountAsync(pipeline.Names.SendQueue), n => n == 0, "both copies acked");

        Assert.Single(pipeline.Relay.Accepted);
    }

    [Fact]
    public async Task Same_idempotency_key_gives_the_same_job_and_one_mail()
    {
        await using var pipeline = await Pipeline.StartAsync();
        var key = Guid.NewGuid().ToString();

        var first = await PostWithKeyAsync(pipeline, key, Jobs.Valid("once"));
        var second = await PostWithKeyAsync(pipeline, key, Jobs.Valid("once"));
        var other = await PostWithKeyAsync(pipeline, key, Jobs.Valid("a different request"));
        var bad = await PostWithKeyAsync(pipeline, new string('k', 201), Jobs.Valid("once"));

        Assert.Equal(HttpStatusCode.Accepted, first.Status);
        Assert.Equal(HttpStatusCode.Accepted, second.Status);
        Assert.Equal(first.Id, second.Id);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, other.Status);
        Assert.Equal(HttpStatusCode.BadRequest, bad.Status);
        await Eventually.TrueAsync(() => pipeline.Relay.Accepted.Count >= 1, "the mail");
        await Eventually.ReturnsAsync(() => pipeline.Queues.CountAsync(pipeline.Names.SendQueue), n => n == 0, "both copies handled");
        Assert.Equal([first.Id!], pipeline.Relay.AcceptedJobIds);
    }

    [Fact]
    public async Task Broker_restart_answers_503_fast_meanwhile_and_every_accepted_job_is_delivered()
    {
        await using var broker = await FaultBroker.CreateAsync();
        await using var pipeline = await Pipeline.StartAsync(api: false, worker: false);
        pipeline.Settings["RabbitMq:Uri"] = broker.Uri;
        await pipeline.StartApiAsync();
        await pipeline.StartWorkerAsync();
        var accepted = new List<string> { await Jobs.PostAndGetIdAsync(pipeline.Http, Jobs.Valid("before")) };
        await Eventually.TrueAsync(() => pipeline.Relay.Accepted.Count == 1, "the first mail");

        await broker.StopAsync();
        var clock = Stopwatch.StartNew();
        using var during = await pipeline.Http.PostAsJsonAsync("/api/send-email", Jobs.Valid("during"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, during.StatusCode);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(6), $"503 took {clock.Elapsed}");

        await broker.StartAsync();
        var after = await Eventually.ReturnsAsync(
            () => pipeline.Http.PostAsJsonAsync("/api/send-email", Jobs.Valid("after")),
            r => r.StatusCode == HttpStatusCode.Accepted, "202 once the broker is back", TimeSpan.FromSeconds(60));
        accepted.Add((await after.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>()).GetProperty("id").GetString()!);

        await Eventually.TrueAsync(() => accepted.All(pipeline.Relay.AcceptedJobIds.Contains), "every accepted job delivered",
            TimeSpan.FromSeconds(60));
    }

    [Fact]
    public async Task A_job_that_keeps_killing_its_consumer_ends_in_the_dlq_as_delivery_limit()
    {
        await using var pipeline = await Pipeline.StartAsync(worker: false);
        var id = await Jobs.PostAndGetIdAsync(pipeline.Http, Jobs.Valid("crashes every worker"));
        var connection = await BrokerEnvironment.ConnectionAsync();

        // Each round is a worker that took the job and died before settling it: its channel closes.
        var deliveries = 0;
        while (await pipeline.Queues.CountAsync(pipeline.Names.DeadQueue) == 0 && deliveries <= TopologyNames.DeliveryLimit + 1)
        {
            await using var channel = await connection.CreateChannelAsync();
            if (await channel.BasicGetAsync(pipeline.Names.SendQueue, autoAck: false) is not null)
                deliveries++;
            await channel.CloseAsync(CancellationToken.None);
            await Eventually.ReturnsAsync(async () => await pipeline.Queues.CountAsync(pipeline.Names.SendQueue)
                + await pipeline.Queues.CountAsync(pipeline.Names.DeadQueue), n => n == 1, "the job back in a queue");
        }

        Assert.Equal(TopologyNames.DeliveryLimit + 1, deliveries);
        var dead = (await pipeline.Queues.TakeAsync(pipeline.Names.DeadQueue)).Single();
        Assert.Equal(id, dead.Properties.MessageId);
        var letter = new Notifications.Core.DeadLetters.DeadLetter(0, dead.Body, dead.Properties);
        Assert.Equal("delivery-limit", letter.Kind);
    }

    private static async Task<(HttpStatusCode Status, string? Id)> PostWithKeyAsync(Pipeline pipeline, string key, object body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/send-email") { Content = JsonContent.Create(body) };
        request.Headers.TryAddWithoutValidation("Idempotency-Key", key);
        using var response = await pipeline.Http.SendAsync(request);
        var json = await response.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>();
        return (response.StatusCode, json.TryGetProperty("id", out var id) ? id.GetString() : null);
    }
    [Theory]
    [InlineData(1)] // the sends in flight end within the shutdown's grace; the jobs waiting for a slot or a turn go back
    [InlineData(12)] // past the grace (10 s here): the sends in flight are abandoned too
    public async Task A_graceful_stop_releases_every_send_claim_it_holds_so_the_next_worker_does_not_wait_out_the_lease(int relaySeconds)
    {
        // The shipped lease (1 min) is what the next worker would wait on; the relay is slow, so jobs queue for slots and turns.
        await using var pipeline = await Pipeline.StartAsync(configure: s => s["Store:SendLease"] = "00:01:00");
        pipeline.Relay.Delay = TimeSpan.FromSeconds(relaySeconds);
        var ids = new List<string>();
        for (var i = 0; i < 20; i++)
            ids.Add(await Jobs.PostAndGetIdAsync(pipeline.Http, new { to = new[] { $"user{i}@example.com" }, subject = "s", text = "t" }));
        await Eventually.TrueAsync(() => pipeline.Relay.Attempts.Count >= 2, "sends in flight");

        await pipeline.StopWorkerAsync();

        var store = new Core.Store.SqliteJobStore(Microsoft.Extensions.Options.Options.Create(
            new Core.Store.StoreOptions { Path = pipeline.Settings["Store:Path"]!, SendLease = TimeSpan.FromMinutes(1) }));
        var sent = pipeline.Relay.AcceptedJobIds.ToHashSet();
        var held = new List<string>();
        foreach (var id in ids.Where(id => !sent.Contains(id)))
            if (await store.TryStartSendAsync(id, default) == Core.Store.SendClaim.InProgress)
                held.Add(id);
            else
                await store.ReleaseSendAsync(id, default);
        output.WriteLine($"{sent.Count} sent before the stop, {ids.Count - sent.Count} returned unsent");
        Assert.True(ids.Count > sent.Count, "every job was sent before the stop: nothing was left to hold");
        Assert.Empty(held);

        await pipeline.StartWorkerAsync();
        pipeline.Relay.Delay = TimeSpan.Zero;
        await Eventually.TrueAsync(() => ids.All(pipeline.Relay.AcceptedJobIds.Contains), "every job sent by the next worker, long before a lease runs out",
            TimeSpan.FromSeconds(30));
    }
}
