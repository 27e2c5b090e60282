namespace Notifications.Core.Store;

/// <summary>
/// Everything a store backend (SQLite, Redis) keeps. Callers never take this: each sees the interface of its
/// own use (<see cref="IIdempotencyKeys"/>, <see cref="ISendClaims"/>, <see cref="IJobStatuses"/>, <see cref="ISuppressions"/>, <see cref="IReputation"/>).
/// </summary>
public interface IJobStore : IIdempotencyKeys, ISendClaims, IJobStatuses, ISuppressions, IReputation, IDeadLetterIndex, IConsoleSessions;
