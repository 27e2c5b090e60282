using System.Diagnostics;
using System.Threading.Channels;
using MailKit.Net.Smtp;
using MailKit.Security;
using MassTransit;
using Notifications.Core.Broker;
using Notifications.Core.Contract;
using Notifications.Core.Events;

namespace Notifications.Bench;

/// <summary>
/// The same job done the MassTransit 8.5 way: publish through MassTransit, a MassTransit consumer on a
/// quorum queue sending with MailKit over the same number of pooled connections, MassTransit's own retry.
/// </summary>
public static class MassTransitPeer
{
    public static async Task<PeerResult> RunAsync(Uri uri, string prefix, BenchSink sink, int count, int clients,
        int prefetch, int concurrency, int connections)
    {
        sink.Reset();
        await using var pool = await SmtpPool.OpenAsync(sink.Port, connections);
        var bus = Bus.Factory.CreateUsingRabbitMq(rabbit =>
        {
            OutcomeEventsRegistration.ConfigureHost(rabbit, new RabbitMqOptions { Uri = uri, Prefix = prefix + "mt." });
            rabbit.ReceiveEndpoint(prefix + "mt.email.send", endpoint =>
            {
                endpoint.SetQuorumQueue();
                endpoint.PrefetchCount = prefetch;
                endpoint.ConcurrentMessageLimit = concurrency;
                endpoint.UseMessageRetry(retry => retry.Exponential(3, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(5)));
                endpoint.Consumer(() => new SendConsumer(pool));
            });
        });
        await bus.StartAsync();
        try
        {
            var next = -1;
            var cpu = new CpuMeter().Add("bench (MassTransit + sink)", CpuMeter.Self).Add("broker", CpuMeter.Broker);
            cpu.Start();
            var clock = Stopwatch.StartNew();
            await Task.WhenAll(Enumerable.Range(0, clients).Select(async _ =>
            {
                int n;
                while ((n = Interlocked.Increment(ref next)) < count)
                    await bus.Publish(SampleJob.Job($"mt-{n}"));
            }));
            if (!await sink.WaitForAsync(count, TimeSpan.FromSeconds(30)))
                throw new TimeoutException($"the sink saw {sink.Count} of {count} mails");
            return new PeerResult(count / clock.Elapsed.TotalSeconds, cpu.PerJobMs(count));
        }
        finally
        {
            await bus.StopAsync();
        }
    }

    private sealed class SendConsumer(SmtpPool pool) : IConsumer<EmailJob>
    {
        public Task Consume(ConsumeContext<EmailJob> context) => pool.SendAsync(context.Message.Id!, context.CancellationToken);
    }

    private sealed class SmtpPool : IAsyncDisposable
    {
        private readonly Channel<SmtpClient> _idle = Channel.CreateUnbounded<SmtpClient>();
        private readonly List<SmtpClient> _all = [];
        private int _port;

        public static async Task<SmtpPool> OpenAsync(int port, int connections)
        {
            var pool = new SmtpPool { _port = port };
            for (var i = 0; i < connections; i++)
            {
                var client = new SmtpClient();
                await client.ConnectAsync("127.0.0.1", port, SecureSocketOptions.None);
                pool._all.Add(client);
                pool._idle.Writer.TryWrite(client);
            }
            return pool;
        }

        public async Task SendAsync(string id, CancellationToken cancellationToken)
        {
            var client = await _idle.Reader.ReadAsync(cancellationToken);
            try
            {
                if (!client.IsConnected)
                    await client.ConnectAsync("127.0.0.1", _port, SecureSocketOptions.None, cancellationToken);
                await client.SendAsync(RelayCeiling.Mail(id), cancellationToken);
            }
            finally
            {
                _idle.Writer.TryWrite(client);
            }
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var client in _all)
            {
                if (client.IsConnected)
                    await client.DisconnectAsync(true);
                client.Dispose();
            }
        }
    }
}

public sealed record PeerResult(double DeliveredPerSecond, Dictionary<string, double> CpuMsPerJob);
