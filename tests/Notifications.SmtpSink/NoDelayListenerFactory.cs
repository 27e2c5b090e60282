using System.IO.Pipelines;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using SmtpServer;
using SmtpServer.IO;
using SmtpServer.Net;

namespace Notifications.SmtpSink;

/// <summary>
/// SmtpServer's listener with TCP_NODELAY on every accepted socket. The package's default stalls
/// ~40 ms per mail (Nagle against the peer's delayed ACK), which would make an in-process relay ~70×
/// slower than the relay it stands for (shared/MEASURED.md). Built on the package's public interfaces only.
/// </summary>
public sealed class NoDelayListenerFactory : EndpointListenerFactory
{
    public override IEndpointListener CreateListener(IEndpointDefinition endpointDefinition)
    {
        var listener = new TcpListener(endpointDefinition.Endpoint);
        listener.Start();
        return new NoDelayListener(listener);
    }

    private sealed class NoDelayListener(TcpListener listener) : IEndpointListener
    {
        public async Task<ISecurableDuplexPipe> GetPipeAsync(ISessionContext context, CancellationToken cancellationToken)
        {
            var client = await listener.AcceptTcpClientAsync(cancellationToken);
            client.NoDelay = true;
            context.Properties.Add(EndpointListener.LocalEndPointKey, listener.LocalEndpoint);
            context.Properties.Add(EndpointListener.RemoteEndPointKey, client.Client.RemoteEndPoint);
            return new StreamPipe(client.GetStream(), client.Dispose);
        }

        public void Dispose() => listener.Stop();
    }

    /// <summary>A socket's stream as a duplex pipe that STARTTLS can turn into a TLS stream.</summary>
    private sealed class StreamPipe : ISecurableDuplexPipe
    {
        private readonly Action _close;
        private Stream _stream;

        public StreamPipe(Stream stream, Action close)
        {
            _stream = stream;
            _close = close;
            (Input, Output) = Wrap(stream);
        }

        public PipeReader Input { get; private set; }
        public PipeWriter Output { get; private set; }
        public bool IsSecure => _stream is SslStream;
        public SslProtocols SslProtocol => (_stream as SslStream)?.SslProtocol ?? SslProtocols.None;

        public async Task UpgradeAsync(X509Certificate certificate, SslProtocols protocols, CancellationToken cancellationToken = default)
        {
            var tls = new SslStream(_stream, leaveInnerStreamOpen: true);
            await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
            {
                ServerCertificate = certificate,
                EnabledSslProtocols = protocols,
                ClientCertificateRequired = false,
            }, cancellationToken);
            _stream = tls;
            (Input, Output) = Wrap(tls);
        }

        private static (PipeReader, PipeWriter) Wrap(Stream stream) =>
            (PipeReader.Create(stream, new StreamPipeReaderOptions(leaveOpen: true)), PipeWriter.Create(stream, new StreamPipeWriterOptions(leaveOpen: true)));

        public void Dispose()
        {
            _stream.Dispose();
            _close();
        }
    }
}
