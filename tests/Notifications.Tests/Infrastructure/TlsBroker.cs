using System.Net;
using System.Net.Security;
using System.Net.Sockets;

namespace Notifications.Tests.Infrastructure;

/// <summary>
/// A broker spoken to over AMQPS: the fault-test node's TLS listener that scripts/test.sh opens with a CA and
/// certificate made by openssl (<c>RABBITMQ_TLS_URI</c>, <c>RABBITMQ_TLS_CA</c>); without it (Docker users), a TLS
/// front in this process, with a certificate the test makes, before the shared broker.
/// </summary>
public sealed class TlsBroker : IAsyncDisposable
{
    private readonly TestCertificate? _certificate;
    private readonly TcpListener? _listener;
    private readonly CancellationTokenSource _stop = new();

    private TlsBroker(string uri, string caPath, TestCertificate? certificate = null, TcpListener? listener = null)
    {
        Uri = uri;
        CaPath = caPath;
        _certificate = certificate;
        _listener = listener;
    }

    public string Uri { get; }

    /// <summary>The CA that issued the broker's certificate, for <c>RabbitMq:CaCertificate</c>.</summary>
    public string CaPath { get; }

    public static async Task<TlsBroker> CreateAsync()
    {
        var uri = Environment.GetEnvironmentVariable("RABBITMQ_TLS_URI");
        var ca = Environment.GetEnvironmentVariable("RABBITMQ_TLS_CA");
        if (!string.IsNullOrWhiteSpace(uri) && !string.IsNullOrWhiteSpace(ca))
            return new TlsBroker(uri, ca);

        var certificate = TestCertificate.Create();
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var broker = await BrokerEnvironment.UriAsync();
        var front = new TlsBroker(new UriBuilder(broker) { Scheme = "amqps", Host = "127.0.0.1", Port = ((IPEndPoint)listener.LocalEndpoint).Port }.Uri.ToString(),
            certificate.PemPath, certificate, listener);
        _ = front.AcceptAsync(broker);
        return front;
    }

    private async Task AcceptAsync(Uri broker)
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient inbound;
            try
            {
                inbound = await _listener!.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }
            _ = RelayAsync(inbound, broker);
        }
    }

    private async Task RelayAsync(TcpClient inbound, Uri broker)
    {
        using var _ = inbound;
        using var outbound = new TcpClient { NoDelay = true };
        try
        {
            await using var tls = new SslStream(inbound.GetStream());
            await tls.AuthenticateAsServerAsync(_certificate!.Certificate, clientCertificateRequired: false, checkCertificateRevocation: false);
            await outbound.ConnectAsync(broker.Host, broker.Port, _stop.Token);
            var plain = outbound.GetStream();
            await Task.WhenAny(tls.CopyToAsync(plain, _stop.Token), plain.CopyToAsync(tls, _stop.Token));
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or SocketException or ObjectDisposedException
            or System.Security.Authentication.AuthenticationException)
        {
            // A client that refused our certificate, or either side hung up.
        }
    }

    public ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener?.Stop();
        _certificate?.Dispose();
        _stop.Dispose();
        return ValueTask.CompletedTask;
    }
}
