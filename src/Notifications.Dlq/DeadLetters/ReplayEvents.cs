using MassTransit;
using Microsoft.Extensions.Options;
using Notifications.Contracts;
using Notifications.Core.Broker;
using Notifications.Core.Contract;
using Notifications.Core.Events;
using Notifications.Core.Store;
using Notifications.Core.Webhooks;

namespace Notifications.Dlq.DeadLetters;

/// <summary>
/// What follows a replay, batch by batch as the replay goes: <c>EmailReplayed</c> for each job (through a MassTransit bus
/// started once, on the first batch), its status <c>replayed</c> in the job store, and an <c>email.replayed</c> callback
/// for clients with a webhook. A failure here is reported; the replay stands.
/// </summary>
public sealed class ReplayEvents(RabbitMqOptions broker, IOptions<StoreOptions> storeOptions, WebhookOutbox webhooks, TextWriter error,
    TimeProvider clock) : IAsyncDisposable
{
    private const int InFlight = 256;
    private IBusControl? _bus;
    private IJobStore? _store;
    private bool _storeFailed;

    /// <summary>Starts the event bus now, while the replay publishes, so the first batch does not wait for it.</summary>
    public void Prepare(CancellationToken cancellationToken) => _started ??= StartBusAsync(cancellationToken);

    private Task? _started;

    private async Task StartBusAsync(CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(broker.PublishTimeout * 2);
        _bus = Bus.Factory.CreateUsingRabbitMq(rabbit => OutcomeEventsRegistration.ConfigureHost(rabbit, broker));
        await _bus.StartAsync(timeout.Token);
    }

    public async Task AnnounceAsync(IReadOnlyList<DeadLetter> replayed, CancellationToken cancellationToken)
    {
        if (replayed.Count == 0)
            return;
        try
        {
            await PublishAsync(replayed, cancellationToken);
        }
        catch (PublishFailedException ex)
        {
            await error.WriteLineAsync($"dlq: the jobs were replayed, but their EmailReplayed events were not all published: {ex.Message}");
        }
        await RecordStatusesAsync(replayed, cancellationToken);
        await EnqueueWebhooksAsync(replayed, cancellationToken);
    }

    private async Task PublishAsync(IReadOnlyList<DeadLetter> replayed, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(broker.PublishTimeout * 2);
        try
        {
            await (_started ??= StartBusAsync(cancellationToken));
            var now = clock.GetUtcNow();
            // Many confirms in flight at once, as for the replays themselves.
            foreach (var chunk in replayed.Chunk(InFlight))
                await Task.WhenAll(chunk.Select(letter =>
                    _bus!.Publish(new EmailReplayed(letter.Id, letter.Replays + 1, now, letter.Client), timeout.Token)));
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            throw new PublishFailedException(ex.GetBaseException().Message, mayHaveArrived: true, ex);
        }
    }

    /// <summary>
    /// Each replayed job's status becomes <c>replayed</c> in the deployment's job store (the same file or Redis the API
    /// reads). A store that is away costs the statuses, which the worker writes again as the jobs go on.
    /// </summary>
    private async Task RecordStatusesAsync(IReadOnlyList<DeadLetter> replayed, CancellationToken cancellationToken)
    {
        if (_storeFailed)
            return;
        try
        {
            _store ??= await StoreRegistration.CreateAsync(storeOptions, clock);
            var now = clock.GetUtcNow();
            foreach (var chunk in replayed.Chunk(InFlight))
                await Task.WhenAll(chunk.Select(letter => _store.SetStatusAsync(
                    new JobStatus(letter.Id, JobStatus.Replayed, now, Replays: letter.Replays + 1, Client: letter.Client), cancellationToken)));
        }
        catch (Exception ex) when (StoreRegistration.IsStoreFailure(ex))
        {
            _storeFailed = true;
            await error.WriteLineAsync($"dlq: the jobs were replayed, but their status could not be recorded: {ex.Message}");
        }
    }

    /// <summary>An <c>email.replayed</c> callback for each replayed job whose client has a webhook.</summary>
    private async Task EnqueueWebhooksAsync(IReadOnlyList<DeadLetter> replayed, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        try
        {
            foreach (var chunk in replayed.Where(letter => webhooks.Wants(letter.Client)).Chunk(InFlight))
                await Task.WhenAll(chunk.Select(letter =>
                {
                    JobCodec.TryDecode(letter.Body, out var job, out _);
                    return webhooks.EnqueueAsync(WebhookEvents.For(WebhookEvent.Replayed, JobStatus.Replayed, letter.Id, letter.Client, job, now,
                        replays: letter.Replays + 1), cancellationToken);
                }));
        }
        catch (PublishFailedException ex)
        {
            await error.WriteLineAsync($"dlq: the jobs were replayed, but their email.replayed callbacks were not all queued: {ex.Message}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_started is not null)
        {
            try
            {
                await _started;
            }
            catch (Exception)
            {
                // Reported by the batch that needed it; nothing to stop.
            }
        }
        if (_bus is not null)
            await _bus.StopAsync(CancellationToken.None);
        switch (_store)
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
