using System.Net;
using System.Net.Sockets;

namespace Notifications.Tests.Infrastructure;

public static class FreePort
{
    public static int Next()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }
}
