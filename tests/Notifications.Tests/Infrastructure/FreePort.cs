using System.Net;
using System.Net.Sockets;

namespace Notifications.Tests.Infrastructure;

/// <summary>
/// A port for a server another process starts (the API of a telemetry test, a Redis that is not there). Picked below
/// the ephemeral range (32768–60999), where the kernel hands out ports to outgoing connections: a port it chose for a
/// probe and gave back can be taken by any client before the server binds it. In-process servers bind port 0 instead.
/// </summary>
public static class FreePort
{
    private const int First = 10_000;
    private const int Last = 32_000;

    public static int Next()
    {
        for (var tries = 0; tries < 1_000; tries++)
        {
            var port = Random.Shared.Next(First, Last);
            try
            {
                using var probe = new TcpListener(IPAddress.Loopback, port);
                probe.Start();
                return port;
            }
            catch (SocketException)
            {
                // Taken: try another.
            }
        }
        throw new InvalidOperationException($"no free port between {First} and {Last} on 127.0.0.1");
    }
}
