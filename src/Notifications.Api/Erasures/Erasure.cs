using Notifications.Core.Broker;
using Notifications.Core.DeadLetters;
using Notifications.Core.MessageLog;
using Notifications.Core.Store;
using Notifications.Core.Topology;

namespace Notifications.Api.Erasures;

/// <summary>
/// Forgets an address (a data-subject request): out of the message log, out of the job store's statuses, and the dead
/// letters that name it deleted (their index entries too). The suppression list is left as it is: an address that was
/// suppressed stays suppressed, so forgetting someone never mails them again. Safe to repeat: a second run finds nothing.
/// </summary>
public sealed partial class Erasure(
    IMessageLog log,
    IJobStatuses statuses,
    IDeadLetterIndex deadLetterIndex,
    BrokerConnection broker,
    TopologyNames names,
    TimeProvider clock,
    ILogger<Erasure> logger)
{
    private readonly SemaphoreSlim _oneAtATime = new(1, 1);

    /// <exception cref="DlqFailure">the broker is not connected (the log and statuses were erased; a repeat finishes).</exception>
    public async Task<ErasureResponse> EraseAsync(string address, CancellationToken cancellationToken)
    {
        await _oneAtATime.WaitAsync(cancellationToken);
        try
        {
            var messages = await log.EraseAsync(address, cancellationToken);
            var changed = await statuses.EraseAddressAsync(address, cancellationToken);
            var deadLetters = await EraseDeadLettersAsync(address, cancellationToken);
            // The address is not logged: the log is read by more people than the request's owner.
            LogErased(messages, changed, deadLetters);
            return new ErasureResponse(messages, changed, deadLetters);
        }
        finally
        {
            _oneAtATime.Release();
        }
    }

    private async Task<int> EraseDeadLettersAsync(string address, CancellationToken cancellationToken)
    {
        if (broker.Current is not { IsOpen: true } connection)
            throw new DlqFailure("the broker is not connected: the dead letters were not looked at; repeat the erasure");
        var removed = new List<string>();
        await using (var dlq = await DeadLetterQueue.OpenAsync(connection, names.DeadQueue, clock, cancellationToken))
        {
            await foreach (var letter in dlq.StreamAsync(int.MaxValue, cancellationToken))
            {
                if (Names(letter, address))
                {
                    await dlq.RemoveAsync(letter, cancellationToken);
                    removed.Add(letter.Id);
                }
                else
                    dlq.Keep(letter);
            }
            await dlq.ReturnRestAsync();
        }
        foreach (var chunk in removed.Chunk(500))
            await deadLetterIndex.RemoveDeadLettersAsync(chunk, cancellationToken);
        return removed.Count;
    }

    /// <summary>Whether a letter names the address: one of its recipients, or (a body that is no job) anywhere in its text.</summary>
    private static bool Names(DeadLetter letter, string address) => letter.Job is { } job
        ? job.AllRecipients().Concat(job.OnlyTo ?? []).Any(r => LogAddresses.Normalize(r) == address)
        : letter.BodyText.Contains(address, StringComparison.OrdinalIgnoreCase);

    [LoggerMessage(Level = LogLevel.Information, Message = "Erasure: {Messages} messages, {Statuses} statuses and {DeadLetters} dead letters no longer name the address")]
    private partial void LogErased(int messages, int statuses, int deadLetters);
}

/// <summary>What an erasure removed: messages of the log (whole or their mention of the address), statuses, dead letters.</summary>
public sealed record ErasureResponse(int Messages, int Statuses, int DeadLetters);

public sealed record ErasureRequest(string? Address);
