using System.Net;
using System.Net.Sockets;

namespace Notifications.Tests.Infrastructure;

/// <summary>What an open gate does to the connections through it, to play a relay in trouble.</summary>
public enum GateFault
{
    /// <summary>Bytes pass both ways.</summary>
    None,

    /// <summary>Connections are taken and never answered (no greeting, no reply).</summary>
    Hang,

    /// <summary>Every new connection is greeted with <c>421</c> and closed.</summary>
    Answer421AtConnect,

    /// <summary>Bytes pass until the client sends <c>DATA</c>; the connection is cut as the message follows.</summary>
    DropMidData,

    /// <summary>Every new connection gets plain text where a TLS handshake is expected, and is closed.</summary>
    NotTls,
}

/// <summary>
/// A loopback port in front of the broker or a relay that the test opens and closes: closed, connections are
/// refused and the ones through it are cut, as when the server is down; open, bytes pass both ways, unless
/// a <see cref="GateFault"/> says otherwise.
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

    public GateFault Fault { get; private set; }

    /// <summary>From now on, connections get <paramref name="fault"/>; the ones open now are cut.</summary>
    public void Inject(GateFault fault)
    {
        lock (_lock)
        {
            Fault = fault;
            CutLinks();
        }
    }

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
            CutLinks();
        }
    }

    private void CutLinks()
    {
        foreach (var link in _links)
            link.Dispose();
        _links.Clear();
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
            inbound.NoDelay = true;
            if (await AnswerInsteadAsync(inbound, Fault))
                continue;
            var outbound = new TcpClient { NoDelay = true };
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
            _ = PumpAsync(inbound, outbound, fromClient: true, closed);
            _ = PumpAsync(outbound, inbound, fromClient: false, closed);
        }
    }

    /// <summary>Plays the fault for a new connection instead of passing it on; false when it should pass.</summary>
    private async Task<bool> AnswerInsteadAsync(TcpClient inbound, GateFault fault)
    {
        switch (fault)
        {
            case GateFault.Hang:
                lock (_lock)
                    _links.Add(inbound); // held open, unanswered, until the fault ends
                return true;
            case GateFault.Answer421AtConnect or GateFault.NotTls:
                var line = fault == GateFault.NotTls ? "this is not TLS\r\n" : "421 4.3.2 Service not available, closing channel\r\n";
                try
                {
                    await inbound.GetStream().WriteAsync(System.Text.Encoding.ASCII.GetBytes(line));
                }
                catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
                {
                    // The client left first.
                }
                inbound.Dispose();
                return true;
            default:
                return false;
        }
    }

    private async Task PumpAsync(TcpClient from, TcpClient to, bool fromClient, CancellationToken closed)
    {
        var buffer = new byte[16 * 1024];
        var sawData = false;
        try
        {
            var source = from.GetStream();
            var target = to.GetStream();
            int read;
            while ((read = await source.ReadAsync(buffer, closed)) > 0)
            {
                if (fromClient && Fault == GateFault.DropMidData)
                {
                    if (sawData)
                        break; // the message itself: cut the connection under it
                    var text = System.Text.Encoding.ASCII.GetString(buffer, 0, read);
                    sawData = text.StartsWith("DATA\r\n", StringComparison.OrdinalIgnoreCase)
                        || text.Contains("\r\nDATA\r\n", StringComparison.OrdinalIgnoreCase);
                }
                await target.WriteAsync(buffer.AsMemory(0, read), closed);
            }
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
