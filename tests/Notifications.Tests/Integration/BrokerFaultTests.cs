using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Notifications.Core.Broker;
using Notifications.Tests.Infrastructure;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;
using Xunit.Abstractions;

namespace Notifications.Tests.Integration;

/// <summary>Broker trouble the service must ride out by itself, with the shipped defaults: an alarm, a deleted queue.</summary>
[Collection(FaultBrokerCollection.Name)]
public sealed class BrokerFaultTests(ITestOutputHelper output)
{
    // Longer than the client's 20 s RPC timeout: a queue-depth sample stuck on the blocked connection used to end the API here.
    private static readonly TimeSpan AlarmLength = TimeSpan.FromSeconds(25);

    [Fact]
    public async Task A_memory_alarm_gets_503_at_once_without_publishing_keeps_the_api_up_and_202_again_when_it_clears()
    {
        await using var broker = await FaultBroker.CreateAsync();
        await using var pipeline = await Pipeline.StartAsync(api: false, worker: false, shippedDefaults: true);
        pipeline.Settings["RabbitMq:Uri"] = broker.Uri;
        await pipeline.StartApiAsync();
        await pipeline.StartWorkerAsync();
        var expected = new List<string> { await Jobs.PostAndGetIdAsync(pipeline.Http, Jobs.Valid("before the alarm")) };
        await Eventually.TrueAsync(() => pipeline.Relay.Accepted.Count == 1, "the mail before the alarm");
        var api = pipeline.ApiServices.GetRequiredService<BrokerConnection>();

        await broker.MemoryAlarmAsync(on: true);
        var refused = new List<TimeSpan>();
        string firstKey;
        (HttpStatusCode Status, string Title) first;
        try
        {
            // The first publish after the alarm is what gets the connection blocked: it may be queued later, so it is "unknown".
            firstKey = Guid.NewGuid().ToString();
            first = await PostAsync(pipeline, Jobs.Valid("the first during the alarm"), firstKey);
            await Eventually.TrueAsync(() => api.BlockedReason is not null, "the API to hear that the broker blocks it");

            var alarm = Stopwatch.StartNew();
            while (alarm.Elapsed < AlarmLength)
            {
                var clock = Stopwatch.StartNew();
                var during = await PostAsync(pipeline, Jobs.Valid("refused during the alarm"));
                Assert.Equal((HttpStatusCode.ServiceUnavailable, "Queue unavailable"), during);
                refused.Add(clock.Elapsed);
                // A scheduled send gets the same answer, as fast: its declare and publish would wait on the blocked connection.
                clock.Restart();
                var scheduled = await PostAsync(pipeline, new
                {
                    to = new[] { "alice@example.com" }, subject = "scheduled during the alarm", text = "t",
                    sendAt = DateTimeOffset.UtcNow.AddMinutes(10).ToString("yyyy-MM-ddTHH:mm:ssZ"),
                });
                Assert.Equal((HttpStatusCode.ServiceUnavailable, "Queue unavailable"), scheduled);
                refused.Add(clock.Elapsed);
                Assert.Equal(HttpStatusCode.OK, (await pipeline.Http.GetAsync("/health/live")).StatusCode);
                await Task.Delay(TimeSpan.FromSeconds(1)); // the pace of the scenario
            }
        }
        finally
        {
            await broker.MemoryAlarmAsync(on: false);
        }

        Assert.Equal(HttpStatusCode.ServiceUnavailable, first.Status);
        Assert.False(pipeline.ApiServices.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping.IsCancellationRequested,
            "the API must not stop itself over broker trouble");
        Assert.All(refused, took => Assert.True(took < TimeSpan.FromSeconds(2), $"a refusal took {took} (no confirm is waited for: PublishTimeout is 5 s)"));

        var after = await Eventually.ReturnsAsync(() => PostWithIdAsync(pipeline, Jobs.Valid("after the alarm")),
            r => r.Status == HttpStatusCode.Accepted, "202 once the alarm clears", TimeSpan.FromSeconds(30));
        expected.Add(after.Id!);
        // The caller of the unknown one retries with its key: one job, one mail, whether or not the first publish got in.
        var retried = await PostWithIdAsync(pipeline, Jobs.Valid("the first during the alarm"), firstKey);
        Assert.Equal(HttpStatusCode.Accepted, retried.Status);
        expected.Add(retried.Id!);

        await Eventually.TrueAsync(() => expected.All(pipeline.Relay.AcceptedJobIds.Contains), "every accepted job mailed",
            TimeSpan.FromSeconds(60));
        await Eventually.ReturnsAsync(() => CountAsync(broker.Uri, pipeline.Names.SendQueue), n => n == 0, "the work queue drained");
        output.WriteLine($"first publish in the alarm: {(int)first.Status} {first.Title}; {refused.Count} refused in " +
            $"{refused.Min().TotalMilliseconds:0}-{refused.Max().TotalMilliseconds:0} ms; mails: {pipeline.Relay.Accepted.Count}");
        Assert.Equal(expected.Order(), pipeline.Relay.AcceptedJobIds.Order()); // nothing refused got in, nothing twice
    }

    [Fact]
    public async Task A_work_queue_deleted_under_the_running_service_is_declared_again_and_consumed_again()
    {
        await using var pipeline = await Pipeline.StartAsync();
        await Jobs.PostAndGetIdAsync(pipeline.Http, Jobs.Valid("before"));
        await Eventually.TrueAsync(() => pipeline.Relay.Accepted.Count == 1, "the mail before the deletion");

        await using (var channel = await (await BrokerEnvironment.ConnectionAsync()).CreateChannelAsync())
            await channel.QueueDeleteAsync(pipeline.Names.SendQueue, ifUnused: false, ifEmpty: false);

        // The worker hears its consumer cancelled and declares the queue again, before anyone publishes.
        await Eventually.ReturnsAsync(() => ExistsAsync(BrokerEnvironment.ConnectionAsync(), pipeline.Names.SendQueue), e => e,
            "the worker to declare the queue again");
        var after = await Jobs.PostAndGetIdAsync(pipeline.Http, Jobs.Valid("after"));
        await Eventually.TrueAsync(() => pipeline.Relay.AcceptedJobIds.Contains(after), "the worker to consume the new queue");
        Assert.Equal(0u, await pipeline.Queues.CountAsync(pipeline.Names.DeadQueue));
    }

    [Fact]
    public async Task A_publish_that_comes_back_unroutable_declares_the_topology_again_and_is_accepted()
    {
        await using var pipeline = await Pipeline.StartAsync(worker: false);
        await using (var channel = await (await BrokerEnvironment.ConnectionAsync()).CreateChannelAsync())
            await channel.QueueDeleteAsync(pipeline.Names.SendQueue, ifUnused: false, ifEmpty: false);

        var id = await Jobs.PostAndGetIdAsync(pipeline.Http, Jobs.Valid("into a deleted queue"));

        var job = (await pipeline.Queues.WaitAndTakeAsync(pipeline.Names.SendQueue, 1)).Single();
        Assert.Equal(id, job.Properties.MessageId);
    }

    private static async Task<(HttpStatusCode Status, string Title)> PostAsync(Pipeline pipeline, object body, string? key = null)
    {
        var (status, json) = await SendAsync(pipeline, body, key);
        return (status, json.TryGetProperty("title", out var title) ? title.GetString()! : "");
    }

    private static async Task<(HttpStatusCode Status, string? Id)> PostWithIdAsync(Pipeline pipeline, object body, string? key = null)
    {
        var (status, json) = await SendAsync(pipeline, body, key);
        return (status, json.TryGetProperty("id", out var id) ? id.GetString() : null);
    }

    private static async Task<(HttpStatusCode, JsonElement)> SendAsync(Pipeline pipeline, object body, string? key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/send-email") { Content = JsonContent.Create(body) };
        if (key is not null)
            request.Headers.TryAddWithoutValidation("Idempotency-Key", key);
        using var response = await pipeline.Http.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadFromJsonAsync<JsonElement>());
    }

    private static async Task<uint> CountAsync(string uri, string queue)
    {
        await using var connection = await new ConnectionFactory { Uri = new Uri(uri) }.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        return (await channel.QueueDeclarePassiveAsync(queue)).MessageCount;
    }

    private static async Task<bool> ExistsAsync(Task<IConnection> connection, string queue)
    {
        await using var channel = await (await connection).CreateChannelAsync();
        try
        {
            await channel.QueueDeclarePassiveAsync(queue);
            return true;
        }
        catch (OperationInterruptedException)
        {
            return false;
        }
    }
}
