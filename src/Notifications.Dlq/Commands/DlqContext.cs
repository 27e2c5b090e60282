using Notifications.Core.Broker;
using Notifications.Core.Topology;
using Notifications.Dlq.DeadLetters;
using RabbitMQ.Client;

namespace Notifications.Dlq.Commands;

/// <summary>What every command works with: the broker, the names of this deployment, and the terminal.</summary>
public sealed class DlqContext(
    IConnection connection,
    ConfirmedPublisher publisher,
    TopologyNames names,
    TextWriter output,
    TextWriter error,
    Func<string?> readLine,
    bool isTerminal)
{
    public IConnection Connection => connection;
    public ConfirmedPublisher Publisher => publisher;
    public TopologyNames Names => names;
    public TextWriter Out => output;
    public TextWriter Err => error;
    public bool IsTerminal => isTerminal;

    public string? ReadLine() => readLine();

    public Task<DeadLetterQueue> OpenDeadLettersAsync(CancellationToken cancellationToken) =>
        DeadLetterQueue.OpenAsync(connection, names, cancellationToken);

    /// <summary>Puts a dead letter back into <c>email.send</c>; returns once the broker confirmed it.</summary>
    public Task ReplayAsync(DeadLetter letter, CancellationToken cancellationToken) =>
        publisher.PublishAsync(TopologyNames.SendKey, ReplayProperties.For(letter), letter.Body, cancellationToken);
}
