namespace Notifications.Core.Store;

/// <summary>Each job's last known state, for <c>GET /api/emails/{id}</c>.</summary>
public interface IJobStatuses
{
    /// <summary>Records a status unless one later in the job's life (<see cref="JobStatus.Order"/>) is already recorded.</summary>
    Task SetStatusAsync(JobStatus status, CancellationToken cancellationToken);

    Task<JobStatus?> GetStatusAsync(string jobId, CancellationToken cancellationToken);
}
