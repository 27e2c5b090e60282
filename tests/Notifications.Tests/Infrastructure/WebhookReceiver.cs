using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Notifications.Tests.Infrastructure;

/// <summary>
/// A real HTTP receiver of callbacks (Kestrel on 127.0.0.1:0): it records every request and answers what the test's
/// responder says for it (200 unless told otherwise), per path, so several clients' endpoints share one server.
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<Callback> _received = new();

    private WebhookReceiver(WebApplication app) => _app = app;

    /// <summary>Asked for each request: the status to answer (it may take its time, to be a slow or hanging endpoint).</summary>
    public Func<Callback, Task<int>> Respond { get; set; } = _ => Task.FromResult(200);

    public IReadOnlyList<Callback> Received => [.. _received];

    public string Url(string path) => _app.Urls.First().TrimEnd('/') + path;

    public static async Task<WebhookReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new WebhookReceiver(app);
        app.MapPost("/{**path}", async (HttpContext http) =>
        {
            using var reader = new StreamReader(http.Request.Body, Encoding.UTF8);
            var body = await reader.ReadToEndAsync();
            var callback = new Callback(http.Request.Path, http.Request.Headers["webhook-id"].ToString(),
                http.Request.Headers["webhook-timestamp"].ToString(), http.Request.Headers["webhook-signature"].ToString(), body,
                DateTimeOffset.UtcNow);
            receiver._received.Enqueue(callback);
            http.Response.StatusCode = await receiver.Respond(callback);
        });
        await app.StartAsync();
        return receiver;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync(TimeSpan.FromSeconds(2) is var grace ? new CancellationTokenSource(grace).Token : default);
        await _app.DisposeAsync();
    }

    /// <summary>One request as it arrived.</summary>
    public sealed record Callback(string Path, string Id, string Timestamp, string Signature, string Body, DateTimeOffset At)
    {
        public JsonElement Json => JsonDocument.Parse(Body).RootElement;

        public string Type => Json.GetProperty("type").GetString()!;

        public JsonElement Data => Json.GetProperty("data");
    }
}
