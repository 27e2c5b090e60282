using Notifications.Core.Suppressions;

namespace Notifications.Core.Store;

/// <summary>The suppression list, in the job store so every API and worker instance sees the same one.</summary>
public interface ISuppressions
{
    /// <summary>Which of these (normalized) addresses are suppressed: one round trip for a whole job.</summary>
    Task<IReadOnlyDictionary<string, Suppression>> FindSuppressionsAsync(IReadOnlyCollection<string> addresses, CancellationToken cancellationToken);

    /// <summary>Adds or replaces the entry of its address.</summary>
    Task AddSuppressionAsync(Suppression suppression, CancellationToken cancellationToken);

    Task<Suppression?> GetSuppressionAsync(string address, CancellationToken cancellationToken);

    /// <summary>Every entry of one (normalized) address: the deployment's, and each client's for all its mail or one list.</summary>
    Task<IReadOnlyList<Suppression>> GetSuppressionsOfAsync(string address, CancellationToken cancellationToken);

    /// <returns>false when there was no such entry.</returns>
    Task<bool> RemoveSuppressionAsync(string address, CancellationToken cancellationToken);

    /// <summary>A page of entries in a stable order; the cursor of the answer continues after it.</summary>
    Task<SuppressionPage> ListSuppressionsAsync(SuppressionQuery query, CancellationToken cancellationToken);
}
