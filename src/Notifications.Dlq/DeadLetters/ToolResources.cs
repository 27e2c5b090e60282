using MassTransit;
using Microsoft.Extensions.Options;
using Notifications.Core.Broker;
using Notifications.Core.Events;
using Notifications.Core.Store;

namespace Notifications.Dlq.DeadLetters;

/// <summary>
/// What the tool starts only when a command needs it, and stops at the end: the MassTransit bus of the replay events
/// and the job store.
/// </summary>
public sealed class ToolResources(RabbitMqOptions broker, IOptions<StoreOptions> storeOptions, TimeProvider clock) : IAsyncDisposable
{
    private IBusControl? _bus;
    private Task<IJobStore>? _store;

    /// <summary>The bus, started (within twice the publish timeout), as an event publisher.</summary>
    public async Task<IOutcomeEvents> StartEventsAsync(CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(broker.PublishTimeout * 2);
        _bus = Bus.Factory.CreateUsingRabbitMq(rabbit => OutcomeEventsRegistration.ConfigureHost(rabbit, broker));
        await _bus.StartAsync(timeout.Token);
        return new OutcomeEvents(_bus, Options.Create(broker));
    }

    public Task<IJobStore> StoreAsync() => _store ??= StoreRegistration.CreateAsync(storeOptions, clock);

    public async ValueTask DisposeAsync()
    {
        if (_bus is not null)
            await _bus.StopAsync(CancellationToken.None);
        if (_store is { IsCompletedSuccessfully: true })
            switch (_store.Result)
            {
                case IAsyncDisposable asyncDisposable:
                    await asyncDisposable.DisposeAsync();
                    break;
                case IDisposable disposable:
                    disposable.Dispose();
                    break;
            }
    }
}
