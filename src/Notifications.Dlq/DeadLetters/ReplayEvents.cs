using MassTransit;
using Notifications.Contracts;
using Notifications.Core.Broker;
using Notifications.Core.Events;
using Microsoft.Extensions.Options;
using Notifications.Core.Contract;
using Notifications.Core.Store;
using Notifications.Core.Webhooks;

namespace Notifications.Dlq.DeadLetters;

/// <summary>EmailReplayed for each replayed job, through a MassTransit bus started just for that.</summary>
public static class ReplayEvents
{
    /// <summary>
    /// Each replayed job's status becomes <c>replayed</c> in the deployment's job store (the same file or Redis the API
    /// reads). A store that is away costs the statuses, which the worker writes again as the jobs go on; the replay stands.
    /// </summary>
    public static async Task RecordStatusesAsync(IOptions<StoreOptions> options, IReadOnlyList<DeadLetter> replayed, TextWriter error,
        CancellationToken cancellationToken)
    {
        try
        {
            var store = StoreRegistration.Create(options, TimeProvider.System);
            var now = DateTimeOffset.UtcNow;
            foreach (var chunk in replayed.Chunk(InFlight))
                await Task.WhenAll(chunk.Select(letter => store.SetStatusAsync(
                    new JobStatus(letter.Id, JobStatus.Replayed, now, Replays: letter.Replays + 1, Client: letter.Client), cancellationToken)));
        }
        catch (Exception ex) when (StoreRegistration.IsStoreFailure(ex))
        {
            await error.WriteLineAsync($"dlq: the jobs were replayed, but their status could not be recorded: {ex.Message}");
        }
    }

    private const int InFlight = 256;

    /// <summary>An <c>email.replayed</c> callback for each replayed job whose client has a webhook.</summary>
    public static async Task EnqueueWebhooksAsync(WebhookOutbox webhooks, IReadOnlyList<DeadLetter> replayed, CancellationToken cancellationToken)
    {
        var now = DateTimeOffset.UtcNow;
        foreach (var chunk in replayed.Where(letter => webhooks.Wants(letter.Client)).Chunk(InFlight))
            await Task.WhenAll(chunk.Select(letter =>
            {
                JobCodec.TryDecode(letter.Body, out var job, out _);
                return webhooks.EnqueueAsync(WebhookEvents.For(WebhookEvent.Replayed, JobStatus.Replayed, letter.Id, letter.Client, job, now,
                    replays: letter.Replays + 1), cancellationToken);
            }));
    }

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
