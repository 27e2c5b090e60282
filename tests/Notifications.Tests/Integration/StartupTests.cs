using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Notifications.Core.Configuration;
using Notifications.Core.Topology;
using Notifications.Tests.Infrastructure;
using Notifications.Worker;
using RabbitMQ.Client;

namespace Notifications.Tests.Integration;

public sealed class StartupTests
{
    [Fact]
    public async Task Worker_started_before_the_broker_waits_then_connects_and_delivers()
    {
        await using var gate = await TcpGate.ToBrokerAsync();
        var uri = await gate.UriAsync();
        await using var pipeline = await Pipeline.StartAsync(api: false, worker: false);
        pipeline.Settings["RabbitMq:Uri"] = uri;

        var startWorker = pipeline.StartWorkerAsync();
        await Task.WhenAny(startWorker, Task.Delay(1_500));
        Assert.False(startWorker.IsCompleted, "the worker cannot be connected while the broker is unreachable");

        gate.Open();
        await startWorker;
        await pipeline.StartApiAsync();
        await Jobs.PostAndGetIdAsync(pipeline.Http, Jobs.Valid());
        await Eventually.TrueAsync(() => pipeline.Relay.Accepted.Count == 1, "delivery once the broker is reachable");
    }

    [Fact]
    public async Task Api_recovers_by_itself_when_the_broker_comes_back()
    {
        await using var gate = await TcpGate.ToBrokerAsync();
        gate.Open();
        await using var pipeline = await Pipeline.StartAsync(api: false, worker: false);
        pipeline.Settings["RabbitMq:Uri"] = await gate.UriAsync();
        await pipeline.StartApiAsync();
        await Jobs.PostAndGetIdAsync(pipeline.Http, Jobs.Valid());

        gate.Close();
        var during = await Eventually.ReturnsAsync(
            () => pipeline.Http.PostAsJsonAsync("/api/send-email", Jobs.Valid()),
            r => r.StatusCode == HttpStatusCode.ServiceUnavailable, "503 while the broker is away");
        Assert.NotNull(during.Headers.RetryAfter);

        gate.Open();
        await Eventually.ReturnsAsync(
            () => pipeline.Http.PostAsJsonAsync("/api/send-email", Jobs.Valid()),
            r => r.StatusCode == HttpStatusCode.Accepted, "202 again after recovery");
        Assert.Equal(2u, await pipeline.Queues.CountAsync(pipeline.Names.SendQueue));
    }

    [Fact]
    public async Task Queue_with_other_arguments_stops_start_up_with_one_line_naming_queue_and_fix()
    {
        var prefix = $"m{Guid.NewGuid():N}"[..13] + ".";
        var names = new TopologyNames(prefix);
        var connection = await BrokerEnvironment.ConnectionAsync();
        await using (var channel = await connection.CreateChannelAsync())
            await channel.QueueDeclareAsync(names.SendQueue, durable: true, exclusive: false, autoDelete: false);
        try
        {
            var settings = new Dictionary<string, string?>
            {
                ["RabbitMq:Uri"] = (await BrokerEnvironment.UriAsync()).ToString(),
                ["RabbitMq:Prefix"] = prefix,
                ["Serilog:MinimumLevel:Default"] = "Fatal",
            };
            using var worker = NotificationsWorker.Create([], c => c.AddInMemoryCollection(settings));
            var exitCode = await StartupFailure.RunAsync("worker", () => worker.RunAsync())
                .WaitAsync(TimeSpan.FromSeconds(30));

            Assert.Equal(1, exitCode);
            var declarer = new TopologyDeclarer(names, NullLogger<TopologyDeclarer>.Instance);
            var mismatch = await Assert.ThrowsAsync<TopologyMismatchException>(() => declarer.DeclareAsync(connection, default));
            var line = StartupFailure.Describe(mismatch)!;
            Assert.Contains($"Queue '{names.SendQueue}'", line);
            Assert.Contains("Fix:", line);
            Assert.DoesNotContain('\n', line);
        }
        finally
        {
            Environment.ExitCode = 0;
            await new TestQueues(names).DeleteAllAsync();
        }
    }

    [Theory]
    [InlineData("http://hooks.example.com/mail", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "Webhook:Url must be https")]
    [InlineData("https://user:pw@hooks.example.com/mail", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "must not carry a user or password")]
    [InlineData("/relative", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "must be an absolute http(s) URL")]
    [InlineData("https://hooks.example.com/mail", "not-a-secret-at-all", "Webhook:Secret must start with whsec_")]
    [InlineData("https://hooks.example.com/mail", "whsec_c2hvcnQ=", "must hold 24 to 64 bytes")]
    public async Task A_bad_webhook_stops_the_worker_at_start_up_naming_the_key_and_never_the_secret(string url, string secret, string problem)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Clients:shop:KeyHashes:0"] = new string('a', 64),
            ["Clients:shop:AllowedFrom:0"] = "shop@example.com",
            ["Clients:shop:Webhook:Url"] = url,
            ["Clients:shop:Webhook:Secret"] = secret,
        };
        var line = await StartupAttempt.WorkerRefusesAsync(settings);

        Assert.Contains("Clients:shop:", line);
        Assert.Contains(problem, line);
        Assert.DoesNotContain(secret, line);
    }

    [Theory]
    [InlineData("RabbitMq:Uri", "http://not-amqp")]
    [InlineData("Smtp:Connections", "0")]
    [InlineData("Retry:Delays:3", "00:00:01")]
    [InlineData("Email:DefaultFrom", "not an address")]
    [InlineData("RabbitMq:Prefetch", "lots")]
    [InlineData("Store:SendLease", "00:00:20")] // not longer than the shipped Smtp:Timeout (30 s)
    [InlineData("Smtp:CaCertificate", "/no/such/ca.pem")]
    [InlineData("Smtp:DomainLimits:gmail.com", "0")]
    [InlineData("Smtp:DomainLimits:not a domain", "5")]
    [InlineData("RabbitMq:Heartbeat", "00:00:00")]
    [InlineData("RabbitMq:RecoveryInterval", "00:00:00.001")]
    [InlineData("RabbitMq:ConnectTimeout", "00:30:00")]
    public async Task Bad_configuration_stops_start_up_with_one_line_naming_the_key(string key, string value)
    {
        var line = await StartupAttempt.WorkerRefusesAsync(new Dictionary<string, string?> { [key] = value });

        Assert.Contains(key.Split(':')[0] + ":" + key.Split(':')[1], line);
        Assert.DoesNotContain("DataAnnotation", line);
    }

    [Fact]
    public async Task A_redis_store_string_that_names_no_server_stops_start_up_with_one_line()
    {
        var line = await StartupAttempt.WorkerRefusesAsync(new Dictionary<string, string?> { ["Store:Kind"] = "Redis", ["Store:Redis"] = ",,," });

        Assert.Contains("Store:Redis", line);
    }

    [Fact]
    public async Task A_redis_store_that_does_not_answer_lets_the_api_start_and_refuses_only_what_needs_the_store()
    {
        // Nothing listens on the port: the connect gives up after its timeout and keeps trying in the background.
        await using var pipeline = await Pipeline.StartAsync(worker: false, configure: s =>
        {
            s["Store:Kind"] = "Redis";
            s["Store:Redis"] = $"127.0.0.1:{FreePort.Next()},connectTimeout=500";
        });

        using var plain = await pipeline.Http.PostAsJsonAsync("/api/send-email", Jobs.Valid());
        using var keyed = new HttpRequestMessage(HttpMethod.Post, "/api/send-email") { Content = JsonContent.Create(Jobs.Valid()) };
        keyed.Headers.Add("Idempotency-Key", "redis-away-1");
        using var refused = await pipeline.Http.SendAsync(keyed);

        Assert.Equal(HttpStatusCode.Accepted, plain.StatusCode); // the job is safe in the broker; only its status waits
        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.Contains("job store did not answer", await refused.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_bad_setting_prints_one_line_and_no_stack_trace_and_exits_1()
    {
        var settings = new Dictionary<string, string?> { ["Smtp:Connections"] = "0", ["OpenTelemetry:WorkerMetricsPort"] = "0" };
        using var worker = ServiceProcess.StartWorker(settings);

        await worker.WaitForExitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(1, worker.ExitCode);
        var lines = worker.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.True(lines is ["worker: cannot start: Smtp:Connections must be between 1 and 64"], worker.Output);
    }
}
