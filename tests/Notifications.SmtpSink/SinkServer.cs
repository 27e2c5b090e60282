using System.Net;
using System.Net.Sockets;
using SmtpServer;
using SmtpServer.ComponentModel;
using SmtpServer.Storage;

namespace Notifications.SmtpSink;

/// <summary>An SmtpServer on a free loopback port with the no-delay listener, storing mail through <paramref name="store"/>.</summary>
public sealed class SinkServer : IAsyncDisposable
{
    private readonly SmtpServer.SmtpServer _server;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _running;

    /// <param name="store">what happens to each mail.</param>
    /// <param name="name">the server's name in its greeting.</param>
    /// <param name="filter">answers MAIL FROM and RCPT TO (default: every mailbox).</param>
    /// <param name="certificate">TLS: on connect when <paramref name="tlsOnConnect"/>, else offered as STARTTLS.</param>
    /// <param name="tlsOnConnect">TLS from the first byte (SMTPS) rather than STARTTLS.</param>
    public SinkServer(IMessageStore store, string name, IMailboxFilter? filter = null,
        System.Security.Cryptography.X509Certificates.X509Certificate2? certificate = null, bool tlsOnConnect = false)
    {
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            Port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }
        var options = new SmtpServerOptionsBuilder().ServerName(name)
            .Endpoint(endpoint =>
            {
                endpoint.Endpoint(new IPEndPoint(IPAddress.Loopback, Port));
                if (certificate is not null)
                    endpoint.Certificate(certificate).IsSecure(tlsOnConnect);
            }).Build();
        var services = new ServiceProvider();
        services.Add(new Notifications.Core.Listening.BoundedListenerFactory());
        services.Add(store);
        if (filter is not null)
            services.Add(filter);
        _server = new SmtpServer.SmtpServer(options, services);
        _server.SessionCreated += (_, _) => Interlocked.Increment(ref _sessions);
        _running = _server.StartAsync(_stop.Token);
    }

    private int _sessions;

    public int Port { get; }

    /// <summary>SMTP sessions it has had (connections that got its greeting).</summary>
    public int Sessions => Volatile.Read(ref _sessions);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _server.Shutdown();
        try
        {
            await _running;
        }
        catch (OperationCanceledException)
        {
            // Stopped, as asked.
        }
        _stop.Dispose();
    }
}
