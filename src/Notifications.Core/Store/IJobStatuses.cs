namespace Notifications.Core.Store;

/// <summary>Each job's last known state, for <c>GET /api/emails/{id}</c>.</summary>
public interface IJobStatuses
{
    /// <summary>Records a status unless one later in the job's life (<see cref="JobStatus.Order"/>) is already recorded.</summary>
    Task SetStatusAsync(JobStatus status, CancellationToken cancellationToken);

    /// <summary>
    /// Records each of <paramref name="statuses"/> as <see cref="SetStatusAsync"/> does, together (a replay's thousand): one
    /// write for many instead of a task each.
    /// </summary>
    Task SetStatusesAsync(IReadOnlyCollection<JobStatus> statuses, CancellationToken cancellationToken) =>
        Task.WhenAll(statuses.Select(status => SetStatusAsync(status, cancellationToken)));

    Task<JobStatus?> GetStatusAsync(string jobId, CancellationToken cancellationToken);

    /// <summary>
    /// Records <paramref name="status"/> only if the job's status is <paramref name="expected"/> now, in one step: of a
    /// cancel and a worker taking the same scheduled job at the same moment, exactly one wins.
    /// </summary>
    /// <returns>whether it was recorded.</returns>
    Task<bool> TryChangeStatusAsync(JobStatus status, string expected, CancellationToken cancellationToken);

    /// <summary>
    /// An erasure (docs/message-log.md): <paramref name="address"/> (normalized, any case) no longer appears in any status
    /// or history entry — out of the mailed list, replaced by <c>[erased]</c> in the recipients' outcomes. A report that
    /// comes back later for it then matches nothing. Returns how many statuses changed.
    /// </summary>
    Task<int> EraseAddressAsync(string address, CancellationToken cancellationToken);
}
