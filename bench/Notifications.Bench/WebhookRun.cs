using System.Diagnostics;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Notifications.Core.Broker;
using Notifications.Core.Contract;
using Notifications.Core.Topology;
using Notifications.Core.Webhooks;
using RabbitMQ.Client;
using Notifications.Core.Clients;

namespace Notifications.Bench;

/// <summary>
/// What a webhook costs a job: <paramref name="count"/> jobs of client "bench" put straight into <c>email.send</c> and
/// drained by the real worker (its own process, shipped defaults), once with no webhook configured and once with the
/// client's webhook pointing at a receiver in this process (Kestrel, answering 204). Worker CPU per job, both ways.
/// </summary>
/// <param name="warmUp">jobs drained before the measured <paramref name="count"/> (their callbacks too): the worker's first
/// seconds are JIT, and more so with the webhook's code to compile.</param>
public sealed class WebhookRun(string root, Uri broker, string prefix, BenchSink sink, int count, int warmUp = 0)
{
    public async Task<WebhookResult> RunAsync()
    {
        var without = await DrainAsync(prefix + "plain.", webhook: null);
        await using var receiver = await CallbackReceiver.StartAsync();
        var with = await DrainAsync(prefix + "hooked.", receiver);
        return new WebhookResult(count, without.PerSecond, without.WorkerCpuMs, with.PerSecond, with.WorkerCpuMs, receiver.Count,
            with.CallbacksPerSecond, with.ExactlyOnce && without.ExactlyOnce && receiver.Count == warmUp + count ? "ok"
                : $"{receiver.Count} callbacks of {warmUp + count}");
    }

    private async Task<(double PerSecond, double WorkerCpuMs, double CallbacksPerSecond, bool ExactlyOnce)> DrainAsync(string runPrefix,
        CallbackReceiver? webhook)
    {
        var names = new TopologyNames(runPrefix);
        var store = Path.Combine(Path.GetTempPath(), runPrefix + "store.db");
        await using var connection = await WorkerStage.ConnectAndDeclareAsync(broker, names, "bench-webhooks");
        await FillAsync(connection, names);
        sink.Reset();
        var environment = new Dictionary<string, string>(WorkerStage.WorkerSettings(broker, runPrefix, sink, store))
        {
            ["Clients__bench__KeyHashes__0"] = new string('b', 64),
            ["Clients__bench__AllowedFrom__0"] = "Shop <shop@example.com>",
        };
        if (webhook is not null)
        {
            environment["Clients__bench__Webhook__Url"] = webhook.Url;
            environment["Clients__bench__Webhook__Secret"] = WebhookSecret.New();
        }
        try
        {
            using var worker = ServiceUnderTest.Start(root, "Notifications.Worker", environment);
            var cpu = new CpuMeter().Add("worker", () => worker.CpuTime);
            // Timed from the first mail after the warm-up: the worker's start-up (JIT, connections) is not a cost per job.
            var total = warmUp + count;
            await sink.WaitForAsync(warmUp + 1, TimeSpan.FromSeconds(60 + warmUp / 200));
            var warmCallbacks = webhook?.Count ?? 0;
            cpu.Start();
            var started = Stopwatch.GetTimestamp();
            var complete = await sink.WaitForAsync(total, TimeSpan.FromSeconds(30));
            var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
            var callbacksPerSecond = 0.0;
            if (webhook is not null)
            {
                while (webhook.Count < total && Stopwatch.GetElapsedTime(started).TotalSeconds < seconds + 60)
                    await Task.Delay(20);
                callbacksPerSecond = (webhook.Count - warmCallbacks) / Stopwatch.GetElapsedTime(started).TotalSeconds;
            }
            var workerCpu = cpu.PerJobMs(count - 1).GetValueOrDefault("worker");
            var once = complete && sink.Arrivals.Count == total && sink.Arrivals.Values.All(a => a.Count == 1);
            return ((count - 1) / seconds, workerCpu, callbacksPerSecond, once);
        }
        finally
        {
            Cleanup.DeleteStore(store);
            await Cleanup.DeleteAsync(broker, runPrefix);
        }
    }

    private async Task FillAsync(IConnection connection, TopologyNames names)
    {
        await using var publisher = await connection.CreateChannelAsync(ConfirmWindow.ChannelOptions(BrokerCeiling.InFlight));
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, BrokerCeiling.InFlight).Select(async _ =>
        {
            while (Interlocked.Increment(ref next) < warmUp + count)
            {
                var job = SampleJob.Job(Guid.CreateVersion7().ToString()) with { Client = "bench" };
                await publisher.BasicPublishAsync(names.Exchange, TopologyNames.SendKey, mandatory: true, JobProperties.ForNewJob(job),
                    JobCodec.Encode(job));
            }
        }));
    }

    /// <summary>Counts callbacks and answers 204 (Kestrel, keep-alive); it does not verify them (the tests do).</summary>
    private sealed class CallbackReceiver : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private int _count;

        private CallbackReceiver(WebApplication app, string url)
        {
            _app = app;
            Url = url;
        }

        public static async Task<CallbackReceiver> StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
            var app = builder.Build();
            CallbackReceiver? receiver = null;
            app.MapPost("/hooks/", async (HttpRequest request) =>
            {
                await request.Body.CopyToAsync(Stream.Null);
                Interlocked.Increment(ref receiver!._count);
                return Results.NoContent();
            });
            await app.StartAsync();
            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
            receiver = new CallbackReceiver(app, address.TrimEnd('/') + "/hooks/");
            return receiver;
        }

        public string Url { get; }

        public int Count => Volatile.Read(ref _count);

        public ValueTask DisposeAsync() => _app.DisposeAsync();
    }
}

/// <param name="WorkerCpuMsWithout">worker CPU per job with no webhook configured; <paramref name="WorkerCpuMsWith"/> with one client's.</param>
public sealed record WebhookResult(int Count, double DeliveredPerSecondWithout, double WorkerCpuMsWithout, double DeliveredPerSecondWith,
    double WorkerCpuMsWith, int Callbacks, double CallbacksPerSecond, string ExactlyOnce);
