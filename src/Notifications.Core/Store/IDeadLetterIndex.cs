
namespace Notifications.Core.Store;

/// <summary>
/// The console's index of the DLQ, in the job store: written when the worker parks a job there, entries removed when a
/// replay or delete takes the message out, rebuilt from the queue by <c>dlq reindex</c> (the DLQ stays the source of
/// truth; a message the broker dead-lettered by itself is in the index only after a rebuild).
/// </summary>
public interface IDeadLetterIndex
{
    /// <summary>Adds or replaces these entries (by id).</summary>
    Task IndexDeadLettersAsync(IReadOnlyCollection<IndexedDeadLetter> letters, CancellationToken cancellationToken);

    Task RemoveDeadLettersAsync(IReadOnlyCollection<string> ids, CancellationToken cancellationToken);

    /// <summary>A number that changes whenever the index does: a reader reloads only then.</summary>
    Task<long> DeadLetterIndexVersionAsync(CancellationToken cancellationToken);

    /// <summary>Every entry, without details.</summary>
    Task<IReadOnlyList<DeadLetterEntry>> LoadDeadLettersAsync(CancellationToken cancellationToken);

    /// <summary>One entry with its headers and body, or null.</summary>
    Task<IndexedDeadLetter?> GetDeadLetterAsync(string id, CancellationToken cancellationToken);
}
