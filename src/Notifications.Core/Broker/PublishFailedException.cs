namespace Notifications.Core.Broker;

/// <summary>The broker did not take responsibility for a message: it is not safe, and nothing may be acked or answered 202.</summary>
/// <param name="mayHaveArrived">
/// true when the message was sent but its confirm did not come in time (or the connection went before it
/// did): the broker may still have it. false when it was never handed to the broker or the broker refused it.
/// </param>
public sealed class PublishFailedException(string message, bool mayHaveArrived = false, Exception? inner = null) : Exception(message, inner)
{
    public bool MayHaveArrived { get; } = mayHaveArrived;

    /// <summary>The broker answered with a nack: the queue is full (overflow <c>reject-publish</c>) or could not take it.</summary>
    public bool Refused => InnerException is RabbitMQ.Client.Exceptions.PublishException { IsReturn: false };
}
