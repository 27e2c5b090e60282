using System.Net;
using System.Net.Sockets;
using System.Text;
using SmtpServer;
using SmtpServer.IO;
using SmtpServer.Net;

namespace Notifications.Core.Listening;

/// <summary>
/// How many sessions a listener serves at once, in all and from one remote address, and how much one may send: in all,
/// and before it authenticated (a stranger's lines are buffered until their CRLF: this bounds what one can make it hold).
/// </summary>
public sealed record SessionLimits(int MaxSessions = int.MaxValue, int MaxSessionsPerAddress = int.MaxValue, long MaxSessionBytes = long.MaxValue,
    long MaxBytesUntilAuthenticated = long.MaxValue);

/// <summary>
/// SmtpServer's listener with three changes: TCP_NODELAY on every socket (the package's default stalls ~40 ms per reply,
/// Nagle against the peer's delayed ACK); at most <see cref="SessionLimits.MaxSessions"/> sessions at once and
/// <see cref="SessionLimits.MaxSessionsPerAddress"/> from one remote address, the next connection answered
/// <c>421 4.7.0</c> and closed at once rather than left hanging; and at most <see cref="SessionLimits.MaxSessionBytes"/>
/// read in one session, after which it is cut. Built on the package's public interfaces only.
/// </summary>
/// <param name="refused">told the outcome of each connection refused (too-many-sessions, too-many-from-address).</param>
/// <param name="bound">told each endpoint's address once it listens (the port the OS chose for port 0).</param>
public sealed class BoundedListenerFactory(SessionLimits limits, Action<string>? refused = null, Action<IEndpointDefinition, IPEndPoint>? bound = null)
    : EndpointListenerFactory
{
    private static readonly byte[] TooBusy = Encoding.ASCII.GetBytes("421 4.7.0 Too many connections, try again later\r\n");
    private static readonly byte[] TooManyFromYou = Encoding.ASCII.GetBytes("421 4.7.0 Too many connections from your address, try again later\r\n");

    public BoundedListenerFactory() : this(new SessionLimits())
    {
    }

    public override IEndpointListener CreateListener(IEndpointDefinition endpointDefinition)
    {
        var listener = new TcpListener(endpointDefinition.Endpoint);
        listener.Start();
        bound?.Invoke(endpointDefinition, (IPEndPoint)listener.LocalEndpoint);
        return new Listener(listener, limits, refused);
    }

    private sealed class Listener(TcpListener listener, SessionLimits limits, Action<string>? refused) : IEndpointListener
    {
        private readonly Lock _lock = new();
        private readonly Dictionary<IPAddress, int> _perAddress = [];
        private int _sessions;

        public async Task<ISecurableDuplexPipe> GetPipeAsync(ISessionContext context, CancellationToken cancellationToken)
        {
            while (true)
            {
                var client = await listener.AcceptTcpClientAsync(cancellationToken);
                client.NoDelay = true;
                var address = (client.Client.RemoteEndPoint as IPEndPoint)?.Address ?? IPAddress.None;
                if (Admit(address) is { } refusal)
                {
                    refused?.Invoke(refusal == TooBusy ? "too-many-sessions" : "too-many-from-address");
                    _ = RefuseAsync(client, refusal);
                    continue;
                }
                context.Properties.Add(EndpointListener.LocalEndPointKey, listener.LocalEndpoint);
                context.Properties.Add(EndpointListener.RemoteEndPointKey, client.Client.RemoteEndPoint);
                var released = 0;
                return new SocketPipe(new CappedStream(client.GetStream(), limits, context, client.Client), () =>
                {
                    client.Dispose();
                    if (Interlocked.Exchange(ref released, 1) == 0)
                        Release(address);
                });
            }
        }

        /// <returns>null when the session is taken; else what to answer.</returns>
        private byte[]? Admit(IPAddress address)
        {
            lock (_lock)
            {
                if (_sessions >= limits.MaxSessions)
                    return TooBusy;
                var fromIt = _perAddress.GetValueOrDefault(address);
                if (fromIt >= limits.MaxSessionsPerAddress)
                    return TooManyFromYou;
                _perAddress[address] = fromIt + 1;
                _sessions++;
                return null;
            }
        }

        private void Release(IPAddress address)
        {
            lock (_lock)
            {
                _sessions--;
                if (_perAddress.TryGetValue(address, out var fromIt) && fromIt > 1)
                    _perAddress[address] = fromIt - 1;
                else
                    _perAddress.Remove(address);
            }
        }

        private static async Task RefuseAsync(TcpClient client, byte[] answer)
        {
            using (client)
            {
                try
                {
                    using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                    await client.GetStream().WriteAsync(answer, timeout.Token);
                }
                catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException)
                {
                    // It went away first; nothing to tell it.
                }
            }
        }

        public void Dispose() => listener.Stop();
    }

    /// <summary>A stream that fails a read once more than its budget was read: the session ends, its socket closes.</summary>
    /// <remarks>
    /// After each read it asks Linux to ACK at once (TCP_QUICKACK, which the kernel drops again by itself): a client that
    /// leaves Nagle on (MailKit does) holds the small last write of a message (<c>.</c>) until its data is ACKed, and a
    /// delayed ACK made that ~40 ms a message (bench/README.md, submission).
    /// </remarks>
    private sealed class CappedStream(Stream inner, SessionLimits limits, ISessionContext session, Socket socket) : Stream
    {
        private long _read;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, count));

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            Count(await inner.ReadAsync(buffer, cancellationToken));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        private static readonly byte[] On = BitConverter.GetBytes(1);
        private const int IpProtoTcp = 6, TcpQuickAck = 12;

        private int Count(int read)
        {
            if (OperatingSystem.IsLinux() && read > 0)
            {
                try
                {
                    socket.SetRawSocketOption(IpProtoTcp, TcpQuickAck, On);
                }
                catch (SocketException)
                {
                    // Not supported here: ACKs stay as the kernel times them.
                }
                catch (ObjectDisposedException)
                {
                    // Closed meanwhile.
                }
            }
            var budget = session.Authentication.IsAuthenticated ? limits.MaxSessionBytes : limits.MaxBytesUntilAuthenticated;
            if ((_read += read) > budget)
                throw new IOException($"the session sent more than {budget} bytes");
            return read;
        }

        public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);
        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => inner.WriteAsync(buffer, cancellationToken);
        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => inner.WriteAsync(buffer, offset, count, cancellationToken);
        public override void Flush() => inner.Flush();
        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
                inner.Dispose();
            base.Dispose(disposing);
        }
    }
}
