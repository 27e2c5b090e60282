using System.Net.Sockets;
using System.Text;
using SmtpServer;
using SmtpServer.IO;
using SmtpServer.Net;

namespace Notifications.Inbound.Listening;

/// <summary>
/// SmtpServer's listener with three changes: TCP_NODELAY on every socket (the package's default stalls ~40 ms per reply,
/// Nagle against the peer's delayed ACK); at most <paramref name="maxSessions"/> sessions at once, the next connection
/// answered <c>421</c> and closed at once rather than left hanging; and at most <paramref name="maxSessionBytes"/> read
/// in one session, after which it is cut (SmtpServer holds a whole DATA in memory before the store can refuse it).
/// Built on the package's public interfaces only.
/// </summary>
public sealed class BoundedListenerFactory(int maxSessions = int.MaxValue, long maxSessionBytes = long.MaxValue, Action? refused = null)
    : EndpointListenerFactory
{
    private static readonly byte[] TooBusy = Encoding.ASCII.GetBytes("421 4.3.2 Too many connections, try again later\r\n");

    private int MaxSessions => maxSessions;
    private long MaxSessionBytes => maxSessionBytes;
    private void Refused() => refused?.Invoke();

    public override IEndpointListener CreateListener(IEndpointDefinition endpointDefinition)
    {
        var listener = new TcpListener(endpointDefinition.Endpoint);
        listener.Start();
        return new Listener(listener, this);
    }

    private sealed class Listener(TcpListener listener, BoundedListenerFactory limits) : IEndpointListener
    {
        private int _sessions;

        public async Task<ISecurableDuplexPipe> GetPipeAsync(ISessionContext context, CancellationToken cancellationToken)
        {
            while (true)
            {
                var client = await listener.AcceptTcpClientAsync(cancellationToken);
                client.NoDelay = true;
                if (Interlocked.Increment(ref _sessions) > limits.MaxSessions)
                {
                    Interlocked.Decrement(ref _sessions);
                    limits.Refused();
                    _ = RefuseAsync(client);
                    continue;
                }
                context.Properties.Add(EndpointListener.LocalEndPointKey, listener.LocalEndpoint);
                context.Properties.Add(EndpointListener.RemoteEndPointKey, client.Client.RemoteEndPoint);
                var released = 0;
                return new SocketPipe(new CappedStream(client.GetStream(), limits.MaxSessionBytes), () =>
                {
                    client.Dispose();
                    if (Interlocked.Exchange(ref released, 1) == 0)
                        Interlocked.Decrement(ref _sessions);
                });
            }
        }

        private static async Task RefuseAsync(TcpClient client)
        {
            using (client)
            {
                try
                {
                    using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                    await client.GetStream().WriteAsync(TooBusy, timeout.Token);
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
    private sealed class CappedStream(Stream inner, long budget) : Stream
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

        private int Count(int read)
        {
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
