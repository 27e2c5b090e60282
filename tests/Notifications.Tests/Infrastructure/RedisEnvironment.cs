using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using StackExchange.Redis;

namespace Notifications.Tests.Infrastructure;

/// <summary>The Redis the shared-store tests use: <c>REDIS_URI</c> (scripts/test.sh starts one), else a redis-server started here.</summary>
public static class RedisEnvironment
{
    private static readonly Lazy<Task<ConnectionMultiplexer>> Shared = new(StartAsync);

    public static Task<ConnectionMultiplexer> ConnectionAsync() => Shared.Value;

    private static async Task<ConnectionMultiplexer> StartAsync()
    {
        var configured = Environment.GetEnvironmentVariable("REDIS_URI");
        if (string.IsNullOrWhiteSpace(configured))
            configured = StartLocalServer();
        return await ConnectionMultiplexer.ConnectAsync(configured);
    }

    private static string StartLocalServer()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        Process server;
        try
        {
            server = Process.Start(new ProcessStartInfo("redis-server",
                ["--bind", "127.0.0.1", "--port", port.ToString(), "--save", "", "--appendonly", "no"])
            { RedirectStandardOutput = true })!;
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new InvalidOperationException("The Redis store tests need REDIS_URI or redis-server on PATH; scripts/test.sh provides both.", ex);
        }
        AppDomain.CurrentDomain.ProcessExit += (_, _) => server.Kill();
        return $"127.0.0.1:{port},connectRetry=20";
    }
}
