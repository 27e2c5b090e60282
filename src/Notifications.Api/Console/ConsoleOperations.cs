using System.Collections.Concurrent;
using Notifications.Core.Broker;
using Notifications.Core.DeadLetters;
using Notifications.Core.Events;
using Notifications.Core.Store;
using Notifications.Core.Topology;
using Notifications.Core.Webhooks;

namespace Notifications.Api.Console;

/// <summary>One replay, delete or rebuild started from the console, as its progress page shows it.</summary>
public sealed class ConsoleOperation(string id, string action, DeadLetterFilter filter, string @operator, int expected, DateTimeOffset started)
{
    public string Id => id;
    public string Action => action;
    public DeadLetterFilter Filter => filter;
    public string Operator => @operator;

    /// <summary>What the index counted when the operator confirmed.</summary>
    public int Expected => expected;
    public DateTimeOffset Started => started;

    private int _done;
    private int _examined;
    private int _chosen;

    /// <summary>Letters of the DLQ that matched the filter so far.</summary>
    public int Chosen => Volatile.Read(ref _chosen);

    /// <summary>Letters moved, deleted or indexed so far.</summary>
    public int Done => Volatile.Read(ref _done);

    /// <summary>Letters of the DLQ looked at so far.</summary>
    public int Examined => Volatile.Read(ref _examined);

    /// <summary>Chosen letters that were not moved or deleted (they are still in the DLQ).</summary>
    public int Failed { get; internal set; }

    /// <summary>Why it stopped early; null when it ran through.</summary>
    public string? Error { get; internal set; }

    /// <summary>Set when it finished, one way or the other.</summary>
    public DateTimeOffset? Finished { get; internal set; }

    public bool Running => Finished is null;

    /// <summary>Replayed jobs kept to follow (the first this many).</summary>
    public const int ReplayedKept = 1_000;

    private readonly List<string> _replayed = [];

    /// <summary>The ids of the first <see cref="ReplayedKept"/> jobs replayed, to show what became of them.</summary>
    public IReadOnlyList<string> Replayed
    {
        get
        {
            lock (_replayed)
                return [.. _replayed];
        }
    }

    internal void CountReplayed(string jobId)
    {
        lock (_replayed)
            if (_replayed.Count < ReplayedKept)
                _replayed.Add(jobId);
        CountDone();
    }

    internal void CountDone() => Interlocked.Increment(ref _done);
    internal void SetDone(int value) => Volatile.Write(ref _done, value);
    internal void CountExamined() => Interlocked.Increment(ref _examined);
    internal void CountChosen() => Interlocked.Increment(ref _chosen);
}

/// <summary>
/// Runs the console's actions on the DLQ one at a time (two readers of one queue would each hide from the other what it
/// holds), in the background so the page that started one shows its progress. A replay works as <c>dlq replay</c> does:
/// confirmed publishes in flight, each letter removed only after its own copy is confirmed, events, statuses, webhooks and
/// the index announced a batch at a time. The letters chosen are the queue's that match the filter, not the index's.
/// </summary>
public sealed class ConsoleOperations(
    BrokerConnection broker,
    ConfirmedPublisher publisher,
    TopologyNames names,
    IOutcomeEvents events,
    IServiceProvider services,
    WebhookOutbox webhooks,
    Core.MessageLog.MessageLogPublisher messageLog,
    OperatorActions actions,
    IHostApplicationLifetime lifetime,
    TimeProvider clock,
    ILogger<ConsoleOperations> logger)
{
    /// <summary>Publishes awaiting their confirm at once, as in the dlq tool.</summary>
    private const int InFlight = 2_000;

    /// <summary>Finished operations kept for their pages.</summary>
    private const int Kept = 100;

    private readonly ConcurrentDictionary<string, ConsoleOperation> _operations = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _oneAtATime = new(1, 1);

    public ConsoleOperation? Find(string id) => _operations.GetValueOrDefault(id);

    public IReadOnlyList<ConsoleOperation> Recent => [.. _operations.Values.OrderByDescending(operation => operation.Started)];

    public ConsoleOperation Start(string action, DeadLetterFilter filter, string @operator, int expected)
    {
        var operation = new ConsoleOperation(Guid.CreateVersion7().ToString("N")[..12], action, filter, @operator, expected, clock.GetUtcNow());
        _operations[operation.Id] = operation;
        foreach (var old in _operations.Values.Where(o => !o.Running).OrderByDescending(o => o.Started).Skip(Kept))
            _operations.TryRemove(old.Id, out _);
        _ = Task.Run(() => RunAsync(operation));
        return operation;
    }

    private async Task RunAsync(ConsoleOperation operation)
    {
        var stopping = lifetime.ApplicationStopping;
        try
        {
            await _oneAtATime.WaitAsync(stopping);
            try
            {
                if (broker.Current is not { IsOpen: true } connection)
                    throw new DlqFailure("the broker is not connected; nothing changed");
                await using var dlq = await DeadLetterQueue.OpenAsync(connection, names.DeadQueue, clock, stopping);
                switch (operation.Action)
                {
                    case "replay":
                        await ReplayAsync(operation, dlq, stopping);
                        break;
                    case "delete":
                        await DeleteAsync(operation, dlq, stopping);
                        break;
                    default:
                        var (indexed, _) = await DeadLetterIndexer.RebuildAsync(dlq, StoreRegistration.JobStore(services), clock,
                            operation.SetDone, stopping);
                        operation.SetDone(indexed);
                        break;
                }
                await dlq.ReturnRestAsync();
            }
            finally
            {
                _oneAtATime.Release();
            }
        }
        catch (Exception ex)
        {
            operation.Error ??= ex switch
            {
                OperationCanceledException => "the API stopped; what was not done is still in the DLQ",
                DlqFailure => ex.Message,
                _ => $"{ex.GetBaseException().Message}; what was not done is still in the DLQ",
            };
            if (ex is not (OperationCanceledException or DlqFailure))
                logger.LogError(ex, "Console {Action} {Operation} failed", operation.Action, operation.Id);
        }
        if (operation.Error is not null && operation.Action != "reindex")
            operation.Failed = Math.Max(operation.Failed, operation.Expected - operation.Done);
        operation.Finished = clock.GetUtcNow();
        await actions.RecordAsync(operation.Operator, operation.Action, operation.Filter.Describe(), operation.Done, operation.Failed);
    }

    private async Task ReplayAsync(ConsoleOperation operation, DeadLetterQueue dlq, CancellationToken cancellationToken)
    {
        var announcements = new ReplayEvents(_ => Task.FromResult(events), () => Task.FromResult(StoreRegistration.JobStore(services)), webhooks,
            services.GetRequiredService<Core.Clients.ClientRegistry>(),
            line => logger.LogWarning("Console replay {Operation}: {Problem}", operation.Id, line), clock, messageLog, "console (" + operation.Operator + ")");
        var chosen = Choose(operation, dlq, cancellationToken);
        var (replayed, stop) = await DeadLetterReplay.RunAsync(chosen, InFlight,
            (letter, token) => publisher.PublishAsync(TopologyNames.WorkKey(letter.Lane), ReplayProperties.For(letter, clock.GetUtcNow()), letter.Body, token),
            async letter =>
            {
                await dlq.RemoveAsync(letter, cancellationToken);
                operation.CountReplayed(letter.Id);
            },
            announcements.Remember, announcements.AnnounceAsync, cancellationToken);
        operation.SetDone(replayed);
        if (stop is not null)
        {
            operation.Error = $"replay {stop}";
            operation.Failed = Math.Max(0, operation.Chosen - replayed);
        }
    }

    private async Task DeleteAsync(ConsoleOperation operation, DeadLetterQueue dlq, CancellationToken cancellationToken)
    {
        var deleted = new List<string>();
        await foreach (var letter in Choose(operation, dlq, cancellationToken))
        {
            await dlq.RemoveAsync(letter, cancellationToken);
            deleted.Add(letter.Id);
            operation.CountDone();
        }
        await dlq.ReturnRestAsync();
        try
        {
            foreach (var chunk in deleted.Chunk(500))
                await StoreRegistration.JobStore(services).RemoveDeadLettersAsync(chunk, cancellationToken);
        }
        catch (Exception ex) when (StoreRegistration.IsStoreFailure(ex))
        {
            operation.Error = $"{deleted.Count} deleted, but the job store did not answer ({ex.Message}): rebuild the index to stop listing them";
        }
    }

    /// <summary>The queue's letters the filter matches; the others stay in place. One id: the read ends when it is found.</summary>
    private async IAsyncEnumerable<DeadLetter> Choose(ConsoleOperation operation, DeadLetterQueue dlq,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var letter in dlq.StreamAsync(int.MaxValue, cancellationToken))
        {
            operation.CountExamined();
            if (!operation.Filter.Matches(letter, clock.GetUtcNow()))
            {
                dlq.Keep(letter);
                continue;
            }
            operation.CountChosen();
            yield return letter;
            if (operation.Filter.Id is not null)
                yield break;
        }
    }
}
