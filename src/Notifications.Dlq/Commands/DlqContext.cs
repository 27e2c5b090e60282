using Notifications.Core.DeadLetters;
using Notifications.Core.Broker;
using Notifications.Core.Topology;
using Notifications.Dlq.Cli;
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
    bool isTerminal,
    TimeProvider clock,
    ReplayEvents? replayEvents = null,
    DlqQueue queue = DlqQueue.Email,
    Func<Task<Core.Store.IJobStore>>? store = null,
    bool showProgress = false)
{
    /// <summary>A line of progress for a long run, on standard error when that is a terminal (nothing otherwise).</summary>
    public ProgressLine Progress(string what) => new(error, showProgress, what, clock);

    /// <summary>The queue of this run (<c>--queue</c>).</summary>
    public DlqQueue Queue => queue;

    /// <summary>Anything but dead jobs: no replay events, no job statuses.</summary>
    private bool NotJobs => queue != DlqQueue.Email;

    /// <summary>The dead-letter queue this run works on.</summary>
    public string DeadQueue => queue switch
    {
        DlqQueue.Webhook => names.WebhookDeadQueue,
        DlqQueue.InboundUnparsed => names.InboundUnparsedQueue,
        _ => names.DeadQueue,
    };

    /// <summary>Where a replay puts a letter back: the lane's queue of a job, <c>webhook.send</c>, or <c>email.inbound</c> to be read again.</summary>
    public string ReplayTarget => queue switch
    {
        DlqQueue.Webhook => names.WebhookSendQueue,
        DlqQueue.InboundUnparsed => names.InboundQueue,
        _ => names.SendQueue + " / " + names.HighQueue,
    };

    public IConnection Connection => connection;
    public ConfirmedPublisher Publisher => publisher;
    public TopologyNames Names => names;
    public TextWriter Out => output;
    public TextWriter Err => error;
    public bool IsTerminal => isTerminal;
    public TimeProvider Clock => clock;

    public string? ReadLine() => readLine();

    /// <summary>The deployment's job store (the console's index lives there), connected on first use.</summary>
    public Task<Core.Store.IJobStore> StoreAsync() =>
        store?.Invoke() ?? throw new DlqFailure("no job store configured for this run");

    /// <summary>
    /// Takes deleted letters out of the console's index. A store that is away is reported: the letters are gone from the
    /// DLQ all the same, and <c>dlq reindex</c> brings the index back in line.
    /// </summary>
    public async Task ForgetAsync(IReadOnlyCollection<string> ids, CancellationToken cancellationToken)
    {
        if (ids.Count == 0 || NotJobs || store is null)
            return;
        try
        {
            var jobStore = await store();
            foreach (var chunk in ids.Chunk(500))
                await jobStore.RemoveDeadLettersAsync(chunk, cancellationToken);
        }
        catch (Exception ex) when (Core.Store.StoreRegistration.IsStoreFailure(ex) || ex is StackExchange.Redis.RedisConnectionException)
        {
            error.WriteLine($"dlq: the job store did not answer ({ex.GetBaseException().Message}); the console lists the deleted letters until 'dlq reindex'");
        }
    }

    public Task<DeadLetterQueue> OpenDeadLettersAsync(CancellationToken cancellationToken) =>
        DeadLetterQueue.OpenAsync(connection, DeadQueue, clock, cancellationToken);

    /// <summary>A look at up to <paramref name="limit"/> dead letters; every one is back in its place when this returns.</summary>
    public async Task<List<DeadLetter>> SnapshotAsync(int limit, CancellationToken cancellationToken)
    {
        await using var dlq = await OpenDeadLettersAsync(cancellationToken);
        var letters = await dlq.ReadAsync(limit, cancellationToken);
        await dlq.ReturnRestAsync();
        return letters;
    }

    /// <summary>
    /// Puts a dead letter back: a job into its lane (<c>email.send</c> or <c>email.send.high</c>), a webhook into
    /// <c>webhook.send</c>, an inbound message into <c>email.inbound</c>; returns once the broker confirmed it.
    /// </summary>
    public Task ReplayAsync(DeadLetter letter, CancellationToken cancellationToken) =>
        publisher.PublishAsync(queue switch
        {
            DlqQueue.Webhook => TopologyNames.WebhookSendKey,
            DlqQueue.InboundUnparsed => TopologyNames.InboundKey,
            _ => TopologyNames.WorkKey(letter.Lane),
        }, ReplayProperties.For(letter, clock.GetUtcNow()), letter.Body, cancellationToken);

    /// <summary>A replay begins: what announces it gets ready meanwhile (the event bus starts).</summary>
    public void PrepareAnnouncements(CancellationToken cancellationToken)
    {
        if (replayEvents is not null && !NotJobs)
            replayEvents.Prepare(cancellationToken);
    }

    /// <summary>What announcing a replayed letter needs of it (<see cref="ReplayEvents.Remember"/>).</summary>
    public ReplayedLetter RememberReplay(DeadLetter letter) =>
        replayEvents?.Remember(letter) ?? ReplayedLetter.Of(letter, withBody: false);

    /// <summary>Tells subscribers, the status query and webhooks that these jobs were replayed; a failure is reported, the replay stands.</summary>
    public Task AnnounceReplaysAsync(IReadOnlyList<ReplayedLetter> replayed, CancellationToken cancellationToken) =>
        replayed.Count == 0 || replayEvents is null || NotJobs ? Task.CompletedTask : replayEvents.AnnounceAsync(replayed, cancellationToken);
}
