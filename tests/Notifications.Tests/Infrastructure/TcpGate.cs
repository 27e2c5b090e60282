using System.Net;
using System.Net.Sockets;

namespace Notifications.Tests.Infrastructure;

/// <summary>
/// A loopback port in front of the broker that the test opens and closes: closed, connections are
/// refused and the ones through it are cut, as when the broker is down; open, bytes pass both ways.
/// </summary>
public sealed class TcpGate : IAsyncDisposable
{
    private readonly IPEndPoint _target;
    private readonly List<TcpClient> _links = [];
    private readonly Lock _lock = new();
    private TcpListener? _listener;
    private CancellationTokenSource? _open;

    public TcpGate(IPEndPoint target)
    {
        _target = target;
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        Port = ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    public int Port { get; }

    public static async Task<TcpGate> ToBrokerAsync()
    {
        var uri = await BrokerEnvironment.UriAsync();
        var address = (await Dns.GetHostAddressesAsync(uri.Host)).First(a => a.AddressFamily == AddressFamily.InterNetwork);
        return new TcpGate(new IPEndPoint(address, uri.Port));
    }

    /// <summary>The broker URI with the gate's port in place of the broker's.</summary>
    public async Task<string> UriAsync() =>
        new UriBuilder(await BrokerEnvironment.UriAsync()) { Host = "127.0.0.1", Port = Port }.Uri.ToString();

    public void Open()
    {
        lock (_lock)
        {
            if (_listener is not null)
                return;
            _open = new CancellationTokenSource();
            _listener = new TcpListener(IPAddress.Loopback, Port);
            _listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            _listener.Start();
            _ = AcceptAsync(_listener, _open.Token);
        }
    }

    public void Close()
    {
        lock (_lock)
        {
            _open?.Cancel();
            _listener?.Stop();
            _listener = null;
            foreach (var link in _links)
                link.Dispose();
            _links.Clear();
        }
    }

    private async Task AcceptAsync(TcpListener listener, CancellationToken closed)
    {
        while (!closed.IsCancellationRequested)
        {
            TcpClient inbound;
            try
            {
                inbound = await listener.AcceptTcpClientAsync(closed);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }
            var outbound = new TcpClient { NoDelay = true };
            inbound.NoDelay = true;
            try
            {
                await outbound.ConnectAsync(_target, closed);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException)
            {
                inbound.Dispose();
                outbound.Dispose();
                continue;
            }
            lock (_lock)
            {
                _links.Add(inbound);
                _links.Add(outbound);
            }
            _ = PumpAsync(inbound, outbound, closed);
            _ = PumpAsync(outbound, inbound, closed);
        }
    }

    private static async Task PumpAsync(TcpClient from, TcpClient to, CancellationToken closed)
    {
        try
        {
            await from.GetStream().CopyToAsync(to.GetStream(), closed);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException or SocketException)
        {
            // The gate was closed or one side hung up.
        }
        from.Dispose();
        to.Dispose();
    }

    public ValueTask DisposeAsync()
    {
        Close();
        return ValueTask.CompletedTask;
    }
}
