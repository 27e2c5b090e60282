using System.ComponentModel.DataAnnotations;

namespace Notifications.Core.Store;

public enum StoreKind
{
    /// <summary>A SQLite file: no server, for one machine (API and worker on the same host).</summary>
    Sqlite,

    /// <summary>Redis: shared by several API and worker instances.</summary>
    Redis,
}

/// <summary>The <c>Store</c> section: where idempotency keys, sent markers and job statuses live.</summary>
public sealed class StoreOptions
{
    public const string Section = "Store";

    public StoreKind Kind { get; set; } = StoreKind.Sqlite;

    /// <summary>
    /// The SQLite file (Kind = Sqlite), one per deployment: the API, the worker and <c>dlq</c> on one host share it.
    /// Empty: <c>notifications/notifications.db</c> in the user's local application data (~/.local/share on Linux),
    /// the same file for every program run by that user; a relative path is taken from the program's folder.
    /// </summary>
    public string Path { get; set; } = "";

    /// <summary>StackExchange.Redis configuration string (Kind = Redis), e.g. <c>127.0.0.1:6379</c>.</summary>
    public string? Redis { get; set; }

    /// <summary>How long sent markers, idempotency keys and statuses are kept.</summary>
    [Range(typeof(TimeSpan), "00:01:00", "365.00:00:00", ErrorMessage = "Store:Retention must be between 1 minute and 365 days")]
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(7);

    /// <summary>How long a worker may hold a job's send claim before another worker may take it over.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00", ErrorMessage = "Store:SendLease must be between 1 second and 1 hour")]
    public TimeSpan SendLease { get; set; } = TimeSpan.FromMinutes(1);

    public string ResolvedPath => Path switch
    {
        "" => System.IO.Path.Combine(SharedFolder, "notifications", "notifications.db"),
        _ when System.IO.Path.IsPathRooted(Path) => Path,
        _ => System.IO.Path.Combine(AppContext.BaseDirectory, Path),
    };

    private static string SharedFolder => Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData) is { Length: > 0 } folder
        ? folder
        : System.IO.Path.GetTempPath();
}
