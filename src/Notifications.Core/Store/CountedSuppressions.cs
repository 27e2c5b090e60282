using Notifications.Core.Suppressions;
using Notifications.Core.Telemetry;

namespace Notifications.Core.Store;

/// <summary>
/// The suppression list as the services use it: every new entry, whoever adds it (a bounce at RCPT or later, a
/// complaint, an unsubscribe, a client, an operator), is counted here, once, in <c>notifications.suppressions.added{source}</c>;
/// writing an entry again (a reason changed, the same address bouncing for another job) is not a new one.
/// </summary>
public sealed class CountedSuppressions(ISuppressions store, NotificationsTelemetry telemetry) : ISuppressions
{
    public Task<IReadOnlyDictionary<string, Suppression>> FindSuppressionsAsync(IReadOnlyCollection<string> addresses, CancellationToken cancellationToken) =>
        store.FindSuppressionsAsync(addresses, cancellationToken);

    public async Task AddSuppressionAsync(Suppression suppression, CancellationToken cancellationToken)
    {
        // One read more per add: adds are rare (none on the send path of a mail that went), and the count stays one per entry.
        var existed = await store.GetSuppressionAsync(suppression.Key, cancellationToken) is not null;
        await store.AddSuppressionAsync(suppression, cancellationToken);
        if (!existed)
            telemetry.SuppressionsAdded.Add(1, new KeyValuePair<string, object?>("source", suppression.Source));
    }

    public Task<Suppression?> GetSuppressionAsync(string address, CancellationToken cancellationToken) => store.GetSuppressionAsync(address, cancellationToken);

    public Task<IReadOnlyList<Suppression>> GetSuppressionsOfAsync(string address, CancellationToken cancellationToken) =>
        store.GetSuppressionsOfAsync(address, cancellationToken);

    public Task<bool> RemoveSuppressionAsync(string address, CancellationToken cancellationToken) => store.RemoveSuppressionAsync(address, cancellationToken);

    public Task<SuppressionPage> ListSuppressionsAsync(SuppressionQuery query, CancellationToken cancellationToken) => store.ListSuppressionsAsync(query, cancellationToken);
}
