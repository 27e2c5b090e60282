namespace Notifications.Core.Store;

/// <summary>
/// The operator console's sessions, kept in the job store so that every API instance agrees: a session the store does not
/// hold (expired, or signed out on any instance) is over, whatever cookie the browser still has.
/// </summary>
public interface IConsoleSessions
{
    Task StartConsoleSessionAsync(string sessionId, DateTimeOffset expires, CancellationToken cancellationToken);

    Task<bool> IsConsoleSessionActiveAsync(string sessionId, CancellationToken cancellationToken);

    Task EndConsoleSessionAsync(string sessionId, CancellationToken cancellationToken);
}
