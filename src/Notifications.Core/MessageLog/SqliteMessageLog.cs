using System.Text;
using Microsoft.Data.Sqlite;
using Notifications.Core.Store;

namespace Notifications.Core.MessageLog;

/// <summary>
/// The message log in a SQLite file (WAL) of its own, beside the job store's: one machine. Subjects are searched with
/// FTS5 (an external-content index kept by triggers); recipients and metadata have index tables of their own, each
/// ordered by acceptance so a search walks the newest first. Writes are serialized inside the process; deletes go in
/// chunks so a purge never holds the write lock for long.
/// </summary>
public sealed partial class SqliteMessageLog(string path, MessageLogOptions options, TimeProvider clock) : IMessageLog
{
    private const int DeleteChunk = 2_000;

    private readonly string _connectionString = new SqliteConnectionStringBuilder
    {
        DataSource = path,
        Mode = SqliteOpenMode.ReadWriteCreate,
        Pooling = true,
        DefaultTimeout = 30,
    }.ToString();

    private readonly SemaphoreSlim _writing = new(1, 1);

    public string Describe() => "SQLite " + path;

    public Task InitializeAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!);
        using var connection = Open();
        Execute(connection, """
            PRAGMA journal_mode = WAL;
            PRAGMA synchronous = NORMAL;
            CREATE TABLE IF NOT EXISTS log_messages (
                seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, client TEXT, sender TEXT, subject TEXT, list TEXT, priority TEXT,
                metadata TEXT, send_at INTEGER, size INTEGER, signed INTEGER, via TEXT, follow_up_of TEXT,
                status TEXT NOT NULL, status_at INTEGER NOT NULL, accepted_at INTEGER NOT NULL, last_event_at INTEGER NOT NULL,
                expires INTEGER NOT NULL);
            CREATE INDEX IF NOT EXISTS log_messages_order ON log_messages (accepted_at DESC, id DESC);
            CREATE INDEX IF NOT EXISTS log_messages_client ON log_messages (client, accepted_at DESC, id DESC);
            CREATE INDEX IF NOT EXISTS log_messages_sender ON log_messages (sender, accepted_at DESC, id DESC);
            -- Kept by acceptance time against the retention of now (a shorter MessageLog:Retention applies to what is there):
            -- the order index serves the purge's range too.
            DROP INDEX IF EXISTS log_messages_expires;
            CREATE TABLE IF NOT EXISTS log_recipients (message_seq INTEGER NOT NULL, address TEXT NOT NULL, kind TEXT NOT NULL,
                accepted_at INTEGER NOT NULL, PRIMARY KEY (message_seq, kind, address)) WITHOUT ROWID;
            CREATE INDEX IF NOT EXISTS log_recipients_address ON log_recipients (address, accepted_at DESC, message_seq);
            CREATE TABLE IF NOT EXISTS log_metadata (message_seq INTEGER NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
                accepted_at INTEGER NOT NULL, PRIMARY KEY (message_seq, key)) WITHOUT ROWID;
            CREATE INDEX IF NOT EXISTS log_metadata_value ON log_metadata (key, value, accepted_at DESC, message_seq);
            CREATE TABLE IF NOT EXISTS log_events (message_seq INTEGER NOT NULL, key TEXT NOT NULL, type TEXT NOT NULL, at INTEGER NOT NULL,
                details TEXT, UNIQUE (message_seq, key));
            CREATE TABLE IF NOT EXISTS log_contents (message_seq INTEGER PRIMARY KEY, text TEXT, html TEXT, headers TEXT, expires INTEGER NOT NULL);
            CREATE INDEX IF NOT EXISTS log_contents_expires ON log_contents (expires);
            CREATE VIRTUAL TABLE IF NOT EXISTS log_subjects USING fts5 (subject, content = 'log_messages', content_rowid = 'seq');
            CREATE TRIGGER IF NOT EXISTS log_messages_ai AFTER INSERT ON log_messages BEGIN
                INSERT INTO log_subjects (rowid, subject) VALUES (new.seq, new.subject); END;
            CREATE TRIGGER IF NOT EXISTS log_messages_ad AFTER DELETE ON log_messages BEGIN
                INSERT INTO log_subjects (log_subjects, rowid, subject) VALUES ('delete', old.seq, old.subject); END;
            CREATE TRIGGER IF NOT EXISTS log_messages_au AFTER UPDATE OF subject ON log_messages BEGIN
                INSERT INTO log_subjects (log_subjects, rowid, subject) VALUES ('delete', old.seq, old.subject);
                INSERT INTO log_subjects (rowid, subject) VALUES (new.seq, new.subject); END;
            """);
        return Task.CompletedTask;
    }

    /// <summary>The oldest acceptance still kept: now less <c>MessageLog:Retention</c>.</summary>
    private long Oldest() => (clock.GetUtcNow() - options.Retention).ToUnixTimeMilliseconds();

    private SqliteConnection Open() => SqliteCommands.Open(_connectionString);

    private static SqliteCommand Command(SqliteConnection connection, string sql, params (string Name, object? Value)[] parameters) =>
        SqliteCommands.Command(connection, sql, parameters);

    private static void Execute(SqliteConnection connection, string sql) => SqliteCommands.Execute(connection, sql);

    private int RunPrepared(SqliteConnection connection, SqliteTransaction transaction, string sql, IEnumerable<(string, object?)> parameters) =>
        Prepared(connection, transaction, sql, parameters).ExecuteNonQuery();

    private static int Run(SqliteConnection connection, SqliteTransaction transaction, string sql, IEnumerable<(string, object?)> parameters)
    {
        using var command = Command(connection, sql, [.. parameters]);
        command.Transaction = transaction;
        return command.ExecuteNonQuery();
    }
}
