using MassTransit;
using Notifications.Contracts;
using Notifications.Core.Broker;
using Notifications.Core.Events;

namespace Notifications.Dlq.DeadLetters;

/// <summary>EmailReplayed for each replayed job, through a MassTransit bus started just for that.</summary>
public static class ReplayEvents
{
    private const int InFlight = 256;

    public static async Task PublishAsync(RabbitMqOptions options, IReadOnlyList<DeadLetter> replayed, CancellationToken cancellationToken)
    {
        var bus = Bus.Factory.CreateUsingRabbitMq(rabbit => OutcomeEventsRegistration.ConfigureHost(rabbit, options));
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.PublishTimeout * 2);
        try
        {
            await bus.StartAsync(timeout.Token);
            var now = DateTimeOffset.UtcNow;
            // Many confirms in flight at once, as for the replays themselves.
            foreach (var chunk in replayed.Chunk(InFlight))
                await Task.WhenAll(chunk.Select(letter =>
                    bus.Publish(new EmailReplayed(letter.Id, letter.Replays + 1, now, letter.Client), timeout.Token)));
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            throw new PublishFailedException(ex.GetBaseException().Message, mayHaveArrived: true, ex);
        }
        finally
        {
            await bus.StopAsync(CancellationToken.None);
        }
    }
}
