using RabbitMQ.Client;
using Testcontainers.RabbitMq;

namespace Notifications.Tests.Infrastructure;

/// <summary>
/// The broker the tests share: <c>RABBITMQ_URI</c> when set (scripts/test.sh starts a throwaway
/// node), else a Testcontainers <c>rabbitmq:4-management</c> for machines with Docker.
/// </summary>
public static class BrokerEnvironment
{
    private static readonly Lazy<Task<Uri>> SharedUri = new(StartAsync);
    private static readonly Lazy<Task<IConnection>> SharedConnection = new(ConnectAsync);
    private static RabbitMqContainer? _container;

    public static Task<Uri> UriAsync() => SharedUri.Value;

    /// <summary>A connection for the tests' own looking and publishing.</summary>
    public static Task<IConnection> ConnectionAsync() => SharedConnection.Value;

    private static async Task<Uri> StartAsync()
    {
        var configured = Environment.GetEnvironmentVariable("RABBITMQ_URI");
        if (!string.IsNullOrWhiteSpace(configured))
            return new Uri(configured);

        _container = new RabbitMqBuilder("rabbitmq:4-management").Build();
        await _container.StartAsync();
        AppDomain.CurrentDomain.ProcessExit += (_, _) => _container.DisposeAsync().AsTask().GetAwaiter().GetResult();
        return new Uri(_container.GetConnectionString());
    }

    /// <summary>rabbitmqctl inside the Testcontainers broker (Docker only; scripts/test.sh gives tests a node of their own instead).</summary>
    public static async Task RabbitMqCtlAsync(params string[] arguments)
    {
        await UriAsync();
        var container = _container ?? throw new InvalidOperationException("RABBITMQ_URI names a broker this test cannot control; run scripts/test.sh");
        var result = await container.ExecAsync(["rabbitmqctl", .. arguments]);
        if (result.ExitCode != 0)
            throw new InvalidOperationException($"rabbitmqctl {string.Join(' ', arguments)} failed: {result.Stderr}");
    }

    private static async Task<IConnection> ConnectAsync()
    {
        var factory = new ConnectionFactory { Uri = await UriAsync(), ClientProvidedName = "notifications-tests" };
        return await factory.CreateConnectionAsync();
    }
}
