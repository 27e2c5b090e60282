namespace Notifications.Core.Store;

/// <summary>What the API remembers of an <c>Idempotency-Key</c>: which request it was first used for.</summary>
public interface IIdempotencyKeys
{
    /// <summary>Records the request behind a key; false when the key was used for a different request.</summary>
    Task<bool> TryRememberIdempotencyKeyAsync(string key, string requestHash, CancellationToken cancellationToken);
}
