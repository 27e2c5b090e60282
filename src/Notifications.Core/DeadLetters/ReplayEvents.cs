using Notifications.Contracts;
using Notifications.Core.Broker;
using Notifications.Core.Contract;
using Notifications.Core.Events;
using Notifications.Core.Store;
using Notifications.Core.Webhooks;

namespace Notifications.Core.DeadLetters;

/// <summary>
/// What follows a replay, batch by batch as the replay goes: <c>EmailReplayed</c> for each job, its status
/// <c>replayed</c> and its removal from the console's index in the job store, and an <c>email.replayed</c> callback for
/// clients with a webhook. A failure here is reported; the replay stands.
/// </summary>
/// <param name="events">the event publisher, got when first needed.</param>
/// <param name="store">the job store, got when first needed (or by <see cref="Prepare"/>); a failure to get it is reported once.</param>
/// <param name="report">where a failure is told (the tool's stderr, the console's operation).</param>
/// <param name="log">the message log's publisher: each replayed job gets a <c>replayed</c> entry saying by whom.</param>
/// <param name="by">who replayed: the console's operator, or the <c>dlq</c> tool's user.</param>
public sealed class ReplayEvents(
    Func<CancellationToken, Task<IOutcomeEvents>> events,
    Func<Task<IJobStore>> store,
    WebhookOutbox webhooks,
    Clients.ClientRegistry clients,
    Action<string> report,
    TimeProvider clock,
    MessageLog.MessageLogPublisher? log = null,
    string? by = null)
{
    private const int InFlight = 256;

    // When the replay began: the log's "replayed" is dated before the replayed job's first new attempt, which the worker may
    // start (and log) before this batch is announced.
    private readonly DateTimeOffset _began = clock.GetUtcNow();
    private Task<IOutcomeEvents>? _events;
    private Task<IJobStore>? _store;
    private bool _storeFailed;

    /// <summary>Gets the event publisher and the job store ready now, while the replay publishes, so the first batch does not wait for them.</summary>
    public void Prepare(CancellationToken cancellationToken)
    {
        _events ??= events(cancellationToken);
        _store ??= Task.Run(store, CancellationToken.None);
    }

    /// <summary>What <see cref="AnnounceAsync"/> will need of a replayed letter: its body only for a client with a webhook.</summary>
    public ReplayedLetter Remember(DeadLetter letter) => ReplayedLetter.Of(letter, withBody: webhooks.Wants(letter.Client));

    public async Task AnnounceAsync(IReadOnlyList<ReplayedLetter> replayed, CancellationToken cancellationToken)
    {
        if (replayed.Count == 0)
            return;
        // Independent of each other: side by side, a batch takes as long as the slowest of them, not their sum.
        await Task.WhenAll(AnnounceEventsAsync(replayed, cancellationToken), RecordAsync(replayed, cancellationToken),
            EnqueueWebhooksAsync(replayed, cancellationToken), LogAsync(replayed, cancellationToken));
    }

    /// <summary>A <c>replayed</c> entry per job in the message log, a chunk of them to a message on <c>message.log</c>.</summary>
    private async Task LogAsync(IReadOnlyList<ReplayedLetter> replayed, CancellationToken cancellationToken)
    {
        if (log is null)
            return;
        var now = _began;
        try
        {
            foreach (var chunk in replayed.Where(letter => !letter.IsInbound).Chunk(InFlight))
                await log.PublishAsync([.. chunk.Select(letter => MessageLog.LogEntries.Of(letter.Id, letter.Client, MessageLog.LogEntryTypes.Replayed, now,
                    $"replayed:{letter.Replays + 1}", new System.Text.Json.Nodes.JsonObject { ["by"] = by, ["replays"] = letter.Replays + 1 }))], cancellationToken);
        }
        catch (PublishFailedException ex)
        {
            Report($"the jobs were replayed, but their message-log entries were not all published: {ex.Message}");
        }
    }

    private async Task AnnounceEventsAsync(IReadOnlyList<ReplayedLetter> replayed, CancellationToken cancellationToken)
    {
        try
        {
            await PublishAsync(replayed, cancellationToken);
        }
        catch (PublishFailedException ex)
        {
            Report($"the jobs were replayed, but their EmailReplayed events were not all published: {ex.Message}");
        }
    }

    private readonly Lock _reporting = new();

    /// <summary>The three parts of a batch run at once; where they report is one writer.</summary>
    private void Report(string line)
    {
        lock (_reporting)
            report(line);
    }

    private async Task PublishAsync(IReadOnlyList<ReplayedLetter> replayed, CancellationToken cancellationToken)
    {
        IOutcomeEvents publisher;
        try
        {
            publisher = await (_events ??= events(cancellationToken));
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            throw new PublishFailedException(ex.GetBaseException().Message, mayHaveArrived: false, ex);
        }
        var now = clock.GetUtcNow();
        // Many confirms in flight at once, as for the replays themselves.
        foreach (var chunk in replayed.Chunk(InFlight))
            await Task.WhenAll(chunk.Select(letter =>
                publisher.PublishAsync(new EmailReplayed(letter.Id, letter.Replays + 1, now, letter.Client, clients.TestFlag(letter.Client)), cancellationToken)));
    }

    /// <summary>
    /// Each replayed job's status becomes <c>replayed</c> in the deployment's job store (the same file or Redis the API
    /// reads), and its entry leaves the console's index. A store that is away costs the statuses, which the worker writes
    /// again as the jobs go on, and leaves stale entries until the index is rebuilt.
    /// </summary>
    private async Task RecordAsync(IReadOnlyList<ReplayedLetter> replayed, CancellationToken cancellationToken)
    {
        if (_storeFailed)
            return;
        try
        {
            var jobStore = await (_store ??= store());
            var now = clock.GetUtcNow();
            await jobStore.RemoveDeadLettersAsync([.. replayed.Select(letter => letter.Id)], cancellationToken);
            await jobStore.SetStatusesAsync([.. replayed.Where(letter => !letter.IsInbound).Select(letter =>
                new JobStatus(letter.Id, JobStatus.Replayed, now, Replays: letter.Replays + 1, Client: letter.Client))], cancellationToken);
        }
        catch (Exception ex) when (StoreRegistration.IsStoreFailure(ex) || ex is StackExchange.Redis.RedisConnectionException)
        {
            _storeFailed = true;
            Report($"the jobs were replayed, but their status could not be recorded: {ex.Message}");
        }
    }

    /// <summary>An <c>email.replayed</c> callback for each replayed job whose client has a webhook.</summary>
    private async Task EnqueueWebhooksAsync(IReadOnlyList<ReplayedLetter> replayed, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        try
        {
            // Remember kept the body exactly for the letters whose client has a webhook: no second lookup per letter.
            foreach (var chunk in replayed.Where(letter => letter.Body is not null).Chunk(InFlight))
                await Task.WhenAll(chunk.Select(letter =>
                {
                    JobCodec.TryDecode(letter.Body!, out var job, out _);
                    return webhooks.EnqueueAsync(WebhookEvents.For(WebhookEvent.Replayed, JobStatus.Replayed, letter.Id, letter.Client, job, now,
                        replays: letter.Replays + 1), cancellationToken);
                }));
        }
        catch (PublishFailedException ex)
        {
            Report($"the jobs were replayed, but their email.replayed callbacks were not all queued: {ex.Message}");
        }
    }
}
