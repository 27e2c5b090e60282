using System.ComponentModel.DataAnnotations;
using Notifications.Core.Store;

namespace Notifications.Core.MessageLog;

public enum MessageLogStore
{
    /// <summary>A SQLite file beside the job store's: one machine.</summary>
    Sqlite,

    /// <summary>PostgreSQL: shared by every API and worker instance of a deployment, time-partitioned.</summary>
    Postgres,
}

/// <summary>The <c>MessageLog</c> section (docs/message-log.md).</summary>
public sealed class MessageLogOptions
{
    public const string Section = "MessageLog";

    /// <summary>
    /// False: nothing is logged (no entry is published, the worker writes and purges nothing; the API's searches answer from
    /// what is already there). For a deployment that keeps its own record, and for the benchmark's A/B.
    /// </summary>
    public bool Enabled { get; set; } = true;

    public MessageLogStore Store { get; set; } = MessageLogStore.Sqlite;

    /// <summary>
    /// The SQLite file (Store = Sqlite). Empty: beside the job store's file, named after it (<c>notifications.db</c> →
    /// <c>notifications.messages.db</c>); a relative path is taken from the program's folder.
    /// </summary>
    public string Path { get; set; } = "";

    /// <summary>The Npgsql connection string (Store = Postgres), e.g. <c>Host=db;Username=notifications;Password=…;Database=notifications</c>.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>How long a message and its events are kept, from its acceptance.</summary>
    [Range(typeof(TimeSpan), "01:00:00", "3650.00:00:00", ErrorMessage = "MessageLog:Retention must be between 1 hour and 3650 days")]
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(30);

    /// <summary>How long the bodies and headers as sent are kept; <c>0</c>: never kept. At most <see cref="Retention"/>.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "3650.00:00:00", ErrorMessage = "MessageLog:ContentRetention must be between 0 and 3650 days")]
    public TimeSpan ContentRetention { get; set; } = TimeSpan.FromDays(3);

    /// <summary>How often the worker deletes what expired.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00", ErrorMessage = "MessageLog:PurgeInterval must be between 1 second and 1 day")]
    public TimeSpan PurgeInterval { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Entries the writer takes from <c>message.log</c> into one write at most.</summary>
    [Range(1, 10_000, ErrorMessage = "MessageLog:BatchSize must be between 1 and 10000")]
    public int BatchSize { get; set; } = 500;

    /// <summary>The SQLite file: <see cref="Path"/>, or beside the job store's file.</summary>
    public string ResolvedPath(StoreOptions store) => Path switch
    {
        "" => System.IO.Path.ChangeExtension(store.ResolvedPath, null).TrimEnd('.') + ".messages.db",
        _ when System.IO.Path.IsPathRooted(Path) => Path,
        _ => System.IO.Path.Combine(AppContext.BaseDirectory, Path),
    };
}
