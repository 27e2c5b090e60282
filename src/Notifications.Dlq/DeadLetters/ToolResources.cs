using Microsoft.Extensions.Options;
using Notifications.Core.Store;

namespace Notifications.Dlq.DeadLetters;

/// <summary>What the tool opens only when a command needs it, and closes at the end: the job store.</summary>
public sealed class ToolResources(IOptions<StoreOptions> storeOptions, TimeProvider clock) : IAsyncDisposable
{
    private readonly Lock _gate = new();
    private Task<IJobStore>? _store;

    /// <summary>The store, opened on the first call (a replay opens it beside its first publishes).</summary>
    public Task<IJobStore> StoreAsync()
    {
        lock (_gate)
            return _store ??= StoreRegistration.CreateAsync(storeOptions, clock);
    }

    public async ValueTask DisposeAsync()
    {
        if (_store is { IsCompletedSuccessfully: true })
            switch (_store.Result)
            {
                case IAsyncDisposable asyncDisposable:
                    await asyncDisposable.DisposeAsync();
                    break;
                case IDisposable disposable:
                    disposable.Dispose();
                    break;
            }
    }
}
