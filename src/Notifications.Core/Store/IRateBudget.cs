namespace Notifications.Core.Store;

/// <summary>
/// A pace shared by every worker of a deployment (<c>Smtp:MaxPerSecond</c> with several workers): turns are reserved
/// in the store, a few at a time, so the deployment as a whole keeps to the rate without a round trip per mail.
/// </summary>
public interface IRateBudget
{
    /// <summary>Whether turns really are shared (Redis); false means each worker paces on its own (SQLite: one host, one worker).</summary>
    bool IsShared { get; }

    /// <summary>
    /// Reserves <paramref name="count"/> consecutive turns, <paramref name="spacing"/> apart, in the budget named
    /// <paramref name="budget"/>; returns how long from now the first of them is.
    /// </summary>
    Task<TimeSpan> ReserveAsync(string budget, int count, TimeSpan spacing, CancellationToken cancellationToken);

    /// <summary>
    /// Takes one of <paramref name="limit"/> permits of the window named <paramref name="budget"/> for
    /// <paramref name="holder"/>, held until released (or <paramref name="lease"/> lapses); null when taken, else how
    /// long until one may be free.
    /// </summary>
    Task<TimeSpan?> TryHoldAsync(string budget, string holder, int limit, TimeSpan lease, CancellationToken cancellationToken);

    /// <summary>The holder's send ended: its permit stays taken <paramref name="after"/> longer, then is free.</summary>
    Task ReleaseHoldAsync(string budget, string holder, TimeSpan after, CancellationToken cancellationToken);
}

/// <summary>No shared budget: the SQLite store, whose deployment is one host.</summary>
public sealed class LocalRateBudget : IRateBudget
{
    public static readonly LocalRateBudget Instance = new();

    public bool IsShared => false;

    public Task<TimeSpan> ReserveAsync(string budget, int count, TimeSpan spacing, CancellationToken cancellationToken) =>
        throw new InvalidOperationException("a local budget reserves nothing; pace in process");

    public Task<TimeSpan?> TryHoldAsync(string budget, string holder, int limit, TimeSpan lease, CancellationToken cancellationToken) =>
        throw new InvalidOperationException("a local budget holds nothing; pace in process");

    public Task ReleaseHoldAsync(string budget, string holder, TimeSpan after, CancellationToken cancellationToken) =>
        throw new InvalidOperationException("a local budget holds nothing; pace in process");
}
