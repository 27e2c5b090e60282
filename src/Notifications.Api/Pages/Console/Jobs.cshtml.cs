using Notifications.Api.Console;
using Notifications.Core.DeadLetters;
using Notifications.Core.Store;
using Notifications.Core.Suppressions;

namespace Notifications.Api.Pages.Console;

/// <summary>
/// A job's timeline by its id (every status the store recorded: accepted, attempts with the relay's replies, sent,
/// bounced, complained, replayed), or what is known of a recipient: dead letters that name it, and its suppression.
/// </summary>
public sealed class JobsModel(IJobStatuses statuses, IDeadLetterIndex index, DeadLetterView view, ISuppressions suppressions) : ConsolePage
{
    public string? Query { get; private set; }
    public bool IsAddress { get; private set; }
    public IReadOnlyList<JobStatus> History { get; private set; } = [];
    public JobStatus? Status { get; private set; }
    public DeadLetterEntry? DeadLetter { get; private set; }
    public IReadOnlyList<DeadLetterEntry> DeadLettersOfRecipient { get; private set; } = [];
    public int DeadLettersOfRecipientCount { get; private set; }
    public IReadOnlyList<Suppression> SuppressionsOfRecipient { get; private set; } = [];

    public async Task OnGetAsync(string? q, CancellationToken cancellationToken)
    {
        Query = Clean(q);
        if (Query is null)
            return;
        if (Query.Contains('@'))
        {
            IsAddress = true;
            var matching = (await view.LoadedAsync(cancellationToken)).Entries
                .Where(entry => entry.Recipients.Contains(Query, StringComparison.OrdinalIgnoreCase)).ToList();
            DeadLettersOfRecipientCount = matching.Count;
            DeadLettersOfRecipient = matching.Take(100).ToList();
            if (SuppressedAddress.Normalize(Query) is { } address)
            {
                var page = await suppressions.ListSuppressionsAsync(new SuppressionQuery(Limit: 50, AddressContains: address), cancellationToken);
                SuppressionsOfRecipient = page.Items.Where(entry => entry.Address == address).ToList();
            }
            return;
        }
        History = await statuses.GetHistoryAsync(Query, cancellationToken);
        Status = await statuses.GetStatusAsync(Query, cancellationToken);
        DeadLetter = (await index.GetDeadLetterAsync(Query, cancellationToken))?.Entry;
    }

    /// <summary>What a status means, in the operator's words.</summary>
    public static string Describe(JobStatus status) => status.Status switch
    {
        JobStatus.Queued => "accepted and queued",
        JobStatus.Scheduled => "accepted, scheduled",
        JobStatus.Retrying => $"attempt {status.Attempt} failed, retrying",
        JobStatus.Sent => status.Attempt is { } attempt ? $"sent (attempt {attempt})" : "sent",
        JobStatus.Dead => $"dead-lettered after {status.Attempt} attempt(s) as {status.Kind}",
        JobStatus.Replayed => $"replayed from the DLQ (replay {status.Replays})",
        JobStatus.Suppressed => "not sent: every recipient suppressed",
        JobStatus.Cancelled => "cancelled",
        _ => status.Status,
    };

    /// <summary>The recipients' outcomes of a status, one line each.</summary>
    public static IEnumerable<string> Recipients(JobStatus status)
    {
        if (status.Recipients is not { } r)
            yield break;
        foreach (var x in r.Rejected ?? [])
            yield return $"refused {x.Address}: {x.Reply}";
        foreach (var x in r.Deferred ?? [])
            yield return $"deferred {x.Address}: {x.Reply}";
        foreach (var x in r.Suppressed ?? [])
            yield return $"suppressed {x}";
        foreach (var x in r.Bounced ?? [])
            yield return $"bounced {x.Address}: {x.Reply}";
        foreach (var x in r.SoftBounced ?? [])
            yield return $"soft bounce {x.Address}: {x.Reply}";
        foreach (var x in r.Complained ?? [])
            yield return $"complaint from {x}";
    }
}
