using System.Threading.Channels;
using MailKit.Net.Smtp;
using MailKit.Security;
using MassTransit;
using MimeKit;

namespace Notifications.Bench.Peer;

/// <summary>A MassTransit consumer on a quorum queue: builds the mail with MimeKit and sends it over pooled MailKit connections.</summary>
public static class PeerWorker
{
    public static async Task RunAsync(PeerSettings settings)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(_ => new SmtpPool(settings.SmtpPort, settings.Connections));
        builder.Services.AddMassTransit(bus =>
        {
            bus.AddConsumer<SendConsumer>();
            bus.UsingRabbitMq((context, rabbit) =>
            {
                settings.ConfigureHost(rabbit);
                rabbit.ReceiveEndpoint(settings.Queue, endpoint =>
                {
                    endpoint.SetQuorumQueue();
                    endpoint.PrefetchCount = settings.Prefetch;
                    endpoint.ConcurrentMessageLimit = settings.Concurrency;
                    endpoint.UseMessageRetry(retry => retry.Exponential(3, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(5)));
                    endpoint.ConfigureConsumer<SendConsumer>(context);
                });
            });
        });
        await builder.Build().RunAsync();
    }

    private sealed class SendConsumer(SmtpPool pool) : IConsumer<PeerJob>
    {
        public Task Consume(ConsumeContext<PeerJob> context)
        {
            var job = context.Message;
            var message = new MimeMessage();
            message.From.Add(new MailboxAddress("Notifications", "no-reply@example.com"));
            foreach (var to in job.To!)
                message.To.Add(MailboxAddress.Parse(to));
            message.Subject = job.Subject!;
            message.MessageId = job.Id + "@example.com";
            message.Body = new BodyBuilder { TextBody = job.Text, HtmlBody = job.Html }.ToMessageBody();
            return pool.SendAsync(message, context.CancellationToken);
        }
    }

    private sealed class SmtpPool(int port, int connections) : IAsyncDisposable
    {
        private readonly Channel<SmtpClient> _idle = CreateIdle(connections);
        private readonly List<SmtpClient> _all = [];

        private static Channel<SmtpClient> CreateIdle(int connections)
        {
            var idle = Channel.CreateUnbounded<SmtpClient>();
            for (var i = 0; i < connections; i++)
                idle.Writer.TryWrite(new SmtpClient());
            return idle;
        }

        public async Task SendAsync(MimeMessage message, CancellationToken cancellationToken)
        {
            var client = await _idle.Reader.ReadAsync(cancellationToken);
            try
            {
                if (!client.IsConnected)
                {
                    lock (_all)
                        if (!_all.Contains(client))
                            _all.Add(client);
                    await client.ConnectAsync("127.0.0.1", port, SecureSocketOptions.None, cancellationToken);
                }
                await client.SendAsync(message, cancellationToken);
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
