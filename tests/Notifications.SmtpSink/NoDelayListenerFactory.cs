using System.Net.Sockets;
using System.Reflection;
using SmtpServer;
using SmtpServer.IO;
using SmtpServer.Net;

namespace Notifications.SmtpSink;

/// <summary>
/// SmtpServer's listener with TCP_NODELAY on every accepted socket. The package's default stalls
/// ~40 ms per mail (Nagle against the peer's delayed ACK), which would make an in-process relay ~70×
/// slower than the relay it stands for (shared/MEASURED.md).
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
        private static readonly Type PipeType =
            typeof(ISecurableDuplexPipe).Assembly.GetType("SmtpServer.IO.SecurableDuplexPipe", throwOnError: true)!;

        public async Task<ISecurableDuplexPipe> GetPipeAsync(ISessionContext context, CancellationToken cancellationToken)
        {
            var client = await listener.AcceptTcpClientAsync(cancellationToken);
            client.NoDelay = true;
            context.Properties.Add(EndpointListener.LocalEndPointKey, listener.LocalEndpoint);
            context.Properties.Add(EndpointListener.RemoteEndPointKey, client.Client.RemoteEndPoint);
            // The package keeps its pipe type internal; its listener is what we replace, not its pipe.
            return (ISecurableDuplexPipe)Activator.CreateInstance(PipeType,
                BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public, null,
                [client.GetStream(), (Action)client.Dispose], null)!;
        }

        public void Dispose() => listener.Stop();
    }
}
