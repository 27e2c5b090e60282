using System.IO.Pipelines;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using SmtpServer.IO;

namespace Notifications.Core.Listening;

/// <summary>A socket's stream as the duplex pipe SmtpServer reads and writes; STARTTLS turns it into a TLS stream.</summary>
public sealed class SocketPipe : ISecurableDuplexPipe
{
    private readonly Action _close;
    private Stream _stream;

    /// <param name="close">closes the socket, and whatever else the session held (its place among the sessions).</param>
    public SocketPipe(Stream stream, Action close)
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
