using MassTransit;

namespace Notifications.Bench.Peer;

/// <summary>What the bench hands both processes through the environment.</summary>
public sealed record PeerSettings(Uri Broker, string Prefix, int Prefetch, int Concurrency, int SmtpPort, int Connections, string KeyHash)
{
    public static PeerSettings FromEnvironment()
    {
        static string Get(string name) => Environment.GetEnvironmentVariable(name)
            ?? throw new InvalidOperationException($"the peer needs {name}");
        return new PeerSettings(new Uri(Get("PEER_BROKER")), Get("PEER_PREFIX"), int.Parse(Get("PEER_PREFETCH")),
            int.Parse(Get("PEER_CONCURRENCY")), int.Parse(Get("PEER_SMTP_PORT")), int.Parse(Get("PEER_CONNECTIONS")), Get("PEER_KEY_SHA256"));
    }

    public string Queue => Prefix + "peer.email.send";

    /// <summary>The broker, and exchange names under the run's prefix so the bench can remove them.</summary>
    public void ConfigureHost(IRabbitMqBusFactoryConfigurator rabbit)
    {
        var user = Broker.UserInfo.Split(':', 2);
        rabbit.Host(Broker.Host, (ushort)Broker.Port, "/", host =>
        {
            host.Username(Uri.UnescapeDataString(user[0]));
            host.Password(Uri.UnescapeDataString(user.ElementAtOrDefault(1) ?? ""));
        });
        rabbit.MessageTopology.SetEntityNameFormatter(new PrefixEntityNameFormatter(rabbit.MessageTopology.EntityNameFormatter, Prefix + "peer."));
    }
}
