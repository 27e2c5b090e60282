using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Notifications.Api.Backpressure;
using Notifications.Tests.Infrastructure;

namespace Notifications.Tests.Integration;

public sealed class BackpressureAndOutageTests
{
    [Fact]
    public async Task Deep_work_queue_gets_429_with_Retry_After_and_publishes_nothing()
    {
        await using var pipeline = await Pipeline.StartAsync(worker: false, configure: s => s["Api:MaxQueueDepth"] = "2");
        for (var i = 0; i < 3; i++)
            await Jobs.PostAndGetIdAsync(pipeline.Http, Jobs.Valid());

        var monitor = pipeline.ApiServices.GetRequiredService<QueueDepthMonitor>();
        await Eventually.TrueAsync(() => monitor.Depth() == 3, "the depth sample to see 3 jobs", QueueDepthMonitor.Interval * 10);

        using var response = await pipeline.Http.PostAsJsonAsync("/api/send-email", Jobs.Valid());

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.NotNull(response.Headers.RetryAfter);
        Assert.Equal(3u, await pipeline.Queues.CountAsync(pipeline.Names.SendQueue));
    }

    [Fact]
    public async Task Unreachable_broker_gets_503_with_Retry_After_quickly_and_not_ready()
    {
        await using var pipeline = await Pipeline.StartAsync(api: false, worker: false,
            configure: s => s["RabbitMq:Uri"] = "amqp://guest:guest@127.0.0.1:1/");
        await pipeline.StartApiAsync(waitForBroker: false);

        var started = DateTime.UtcNow;
        using var response = await pipeline.Http.PostAsJsonAsync("/api/send-email", Jobs.Valid());

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.NotNull(response.Headers.RetryAfter);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(2), "503 must not wait for a timeout");
        var problem = await response.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>();
        Assert.Equal("The broker cannot take jobs right now; nothing was queued. Try again later.", problem.GetProperty("detail").GetString());
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("traceId").GetString())); // what an operator finds the log line by
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await pipeline.Http.GetAsync("/health/ready")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await pipeline.Http.GetAsync("/health/live")).StatusCode);
    }
}
