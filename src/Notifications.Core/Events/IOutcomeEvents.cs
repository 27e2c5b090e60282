namespace Notifications.Core.Events;

/// <summary>Publishes an outcome event and returns once the broker confirmed it.</summary>
public interface IOutcomeEvents
{
    /// <exception cref="Broker.PublishFailedException">the broker did not confirm the event.</exception>
    Task PublishAsync<T>(T outcome, CancellationToken cancellationToken) where T : class;
}
