using System.Globalization;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using Notifications.Core.Suppressions;

namespace Notifications.Core.Store;

/// <summary>
/// The store in one SQLite file (WAL), shared by the processes of one machine; no server to run. Every write of the
/// process goes through one <see cref="SqliteWriter"/> in group commits; reads use connections of their own.
/// </summary>
public sealed partial class SqliteJobStore : IJobStore, IAsyncDisposable, IDisposable
{
    private static readonly TimeSpan CleanupInterval = TimeSpan.FromMinutes(10);

    // One writer inside the process: SQLite lets only one write at a time anyway, a busy writer is retried with sleeps
    // (which under 64 concurrent requests costs far more than waiting in line), and one commit for every write waiting
    // costs a job a fraction of a commit of its own (bench: see README, "Benchmark").
    private readonly SqliteWriter _writer;
    private readonly string _connectionString;
    // Whose claim a row is: a worker gives up only its own claim, never one another worker took over.
    private readonly string _owner = Guid.NewGuid().ToString("N");
    private readonly StoreOptions _options;
    private readonly TimeProvider _clock;
    private long _nextCleanup;

    public SqliteJobStore(IOptions<StoreOptions> options, TimeProvider? clock = null)
    {
        _options = options.Value;
        _clock = clock ?? TimeProvider.System;
        var path = _options.ResolvedPath;
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();
        using var connection = Open();
        Execute(connection, """
            PRAGMA journal_mode = WAL;
            PRAGMA synchronous = NORMAL;
            CREATE TABLE IF NOT EXISTS idempotency_keys (key TEXT PRIMARY KEY, request_hash TEXT NOT NULL, expires INTEGER NOT NULL);
            CREATE TABLE IF NOT EXISTS sends (job_id TEXT PRIMARY KEY, state TEXT NOT NULL, owner TEXT, lease_until INTEGER NOT NULL, expires INTEGER NOT NULL);
            CREATE TABLE IF NOT EXISTS statuses (job_id TEXT PRIMARY KEY, status TEXT NOT NULL, at INTEGER NOT NULL,
                attempt INTEGER, kind TEXT, error TEXT, expires INTEGER NOT NULL, ord INTEGER NOT NULL DEFAULT 0, replays INTEGER NOT NULL DEFAULT 0, client TEXT);
            CREATE TABLE IF NOT EXISTS suppressions (address TEXT PRIMARY KEY, reason TEXT NOT NULL, source TEXT NOT NULL, client TEXT, at INTEGER NOT NULL, list TEXT);
            CREATE TABLE IF NOT EXISTS reputation (client TEXT PRIMARY KEY, sent INTEGER NOT NULL DEFAULT 0, paused_at INTEGER, paused_reason TEXT);
            CREATE TABLE IF NOT EXISTS reputation_events (client TEXT NOT NULL, key TEXT NOT NULL, complaint INTEGER NOT NULL, seq INTEGER NOT NULL,
                PRIMARY KEY (client, key));
            -- The window's sums read this index alone (no row lookups): a report recorded against a client with thousands of events
            -- cost 3.6 ms of CPU scanning them through the primary key (bench, inbound).
            CREATE INDEX IF NOT EXISTS reputation_events_window ON reputation_events (client, seq, complaint);
            -- A job's timeline is the message log's now (MessageLog): the history this file kept before goes.
            DROP TABLE IF EXISTS status_history;
            CREATE TABLE IF NOT EXISTS console_sessions (id TEXT PRIMARY KEY, expires INTEGER NOT NULL);
            CREATE TABLE IF NOT EXISTS dead_letters (id TEXT PRIMARY KEY, entry TEXT NOT NULL, detail TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS dead_letters_version (one INTEGER PRIMARY KEY CHECK (one = 1), version INTEGER NOT NULL);
            INSERT OR IGNORE INTO dead_letters_version (one, version) VALUES (1, 0);
            """);
        // A file from before statuses were ordered by the job's life: add the columns it lacks.
        foreach (var (column, type) in new[] { ("ord", "INTEGER NOT NULL DEFAULT 0"), ("replays", "INTEGER NOT NULL DEFAULT 0"), ("client", "TEXT"), ("recipients", "TEXT"), ("mailed", "TEXT") })
            if (Scalar(connection, "SELECT COUNT(*) FROM pragma_table_info('statuses') WHERE name = $name", ("$name", column)) is 0L)
                Execute(connection, $"ALTER TABLE statuses ADD COLUMN {column} {type}");
        // A file from before list unsubscribes: the address column holds the entry's key (SuppressedAddress.ListKey).
        if (Scalar(connection, "SELECT COUNT(*) FROM pragma_table_info('suppressions') WHERE name = 'list'") is 0L)
            Execute(connection, "ALTER TABLE suppressions ADD COLUMN list TEXT");
        _writer = new SqliteWriter(_connectionString);
    }

    public Task<bool> TryRememberIdempotencyKeyAsync(string key, string requestHash, CancellationToken cancellationToken) =>
        _writer.RunAsync(store =>
        {
            store.Execute("INSERT OR IGNORE INTO idempotency_keys (key, request_hash, expires) VALUES ($key, $hash, $expires)",
                ("$key", key), ("$hash", requestHash), ("$expires", Expires()));
            return store.Scalar("SELECT request_hash FROM idempotency_keys WHERE key = $key", ("$key", key)) as string == requestHash;
        }, cancellationToken);

    public Task<SendClaim> TryStartSendAsync(string jobId, CancellationToken cancellationToken) => _writer.RunAsync(store =>
    {
        var now = Now();
        // Taken when no one has it, or when the last claimer's lease ran out (it died mid-send).
        var acquired = store.Scalar("""
            INSERT INTO sends (job_id, state, owner, lease_until, expires) VALUES ($id, 'sending', $owner, $lease, $expires)
            ON CONFLICT (job_id) DO UPDATE SET state = 'sending', owner = $owner, lease_until = $lease, expires = $expires
                WHERE sends.state = 'sending' AND sends.lease_until < $now
            RETURNING state
            """, ("$id", jobId), ("$owner", _owner), ("$lease", now + (long)_options.SendLease.TotalMilliseconds),
            ("$expires", Expires()), ("$now", now));
        if (acquired is not null)
            return SendClaim.Acquired;
        var state = store.Scalar("SELECT state FROM sends WHERE job_id = $id", ("$id", jobId)) as string;
        return state == "sent" ? SendClaim.AlreadySent : SendClaim.InProgress;
    }, cancellationToken);

    public Task<bool> RenewSendAsync(string jobId, CancellationToken cancellationToken) => _writer.RunAsync(store =>
        store.Execute("UPDATE sends SET lease_until = $lease WHERE job_id = $id AND state = 'sending' AND owner = $owner",
            ("$id", jobId), ("$owner", _owner), ("$lease", Now() + (long)_options.SendLease.TotalMilliseconds)) == 1, cancellationToken);

    public Task MarkSentAsync(string jobId, JobStatus sent, CancellationToken cancellationToken) => _writer.RunAsync(store =>
    {
        // In one commit with its status: a marker without the status (or the other way round) is never seen.
        store.Execute("""
            INSERT INTO sends (job_id, state, owner, lease_until, expires) VALUES ($id, 'sent', $owner, 0, $expires)
            ON CONFLICT (job_id) DO UPDATE SET state = 'sent', owner = $owner, lease_until = 0, expires = $expires
            """, ("$id", jobId), ("$owner", _owner), ("$expires", Expires()));
        WriteStatus(store, sent);
        CleanupIfDue(store);
        return true;
    }, cancellationToken);

    public Task ReleaseSendAsync(string jobId, CancellationToken cancellationToken) => _writer.RunAsync(store =>
        store.Execute("DELETE FROM sends WHERE job_id = $id AND state = 'sending' AND owner = $owner", ("$id", jobId), ("$owner", _owner)),
        cancellationToken);

    public Task SetStatusAsync(JobStatus status, CancellationToken cancellationToken) => _writer.RunAsync(store =>
    {
        WriteStatus(store, status);
        return true;
    }, cancellationToken);

    /// <summary>In writes of up to 256 statuses (one transaction each, as the writer bounds them): one write lock held briefly.</summary>
    public Task SetStatusesAsync(IReadOnlyCollection<JobStatus> statuses, CancellationToken cancellationToken) =>
        Task.WhenAll(statuses.Chunk(StatusesPerWrite).Select(chunk => _writer.RunAsync(store =>
        {
            foreach (var status in chunk)
                WriteStatus(store, status);
            return true;
        }, cancellationToken)));

    private const int StatusesPerWrite = 256;

    private void WriteStatus(SqliteStatements store, JobStatus status)
    {
        // Events arrive at least once and not always in order: a state earlier in the job's life never overwrites a later one.
        store.Execute("""
            INSERT INTO statuses (job_id, status, at, attempt, kind, error, expires, ord, replays, client, recipients, mailed)
                VALUES ($id, $status, $at, $attempt, $kind, $error, $expires, $ord, $replays, $client, $recipients, $mailed)
            ON CONFLICT (job_id) DO UPDATE SET status = $status, at = $at, attempt = $attempt, kind = $kind, error = $error,
                expires = MAX($expires, statuses.expires), ord = $ord, replays = $replays, client = COALESCE($client, statuses.client),
                recipients = $recipients, mailed = COALESCE($mailed, statuses.mailed)
                WHERE statuses.ord <= $ord
            """, ("$id", status.JobId), ("$status", status.Status), ("$at", status.At.ToUnixTimeMilliseconds()),
            ("$attempt", status.Attempt), ("$kind", status.Kind), ("$error", status.Error), ("$expires", Expires(status)),
            ("$ord", status.Order), ("$replays", status.Replays), ("$client", status.Client),
            ("$recipients", status.Recipients is { IsEmpty: false } r ? r.ToJson() : null), ("$mailed", status.MailedText()));
    }

    public Task<bool> TryChangeStatusAsync(JobStatus status, string expected, CancellationToken cancellationToken) => _writer.RunAsync(store =>
        store.Execute("""
            UPDATE statuses SET status = $status, at = $at, attempt = $attempt, kind = $kind, error = $error, expires = MAX($expires, expires),
                ord = $ord, replays = $replays, client = COALESCE($client, client), recipients = $recipients, mailed = COALESCE($mailed, mailed)
            WHERE job_id = $id AND status = $expected AND expires > $now
            """, ("$id", status.JobId), ("$status", status.Status), ("$at", status.At.ToUnixTimeMilliseconds()),
            ("$attempt", status.Attempt), ("$kind", status.Kind), ("$error", status.Error), ("$expires", Expires(status)), ("$mailed", status.MailedText()),
            ("$ord", status.Order), ("$replays", status.Replays), ("$client", status.Client),
            ("$recipients", status.Recipients is { IsEmpty: false } r ? r.ToJson() : null), ("$expected", expected), ("$now", Now())) == 1, cancellationToken);

    public Task<int> EraseAddressAsync(string address, CancellationToken cancellationToken) => _writer.RunAsync(store =>
    {
        // LIKE is case-insensitive for ASCII; the rows it finds are checked and rewritten here.
        var pattern = "%" + address.Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_") + "%";
        var statuses = store.Query("SELECT job_id, recipients, mailed FROM statuses WHERE recipients LIKE $pattern ESCAPE '\\' OR mailed LIKE $pattern ESCAPE '\\'",
            Rows, ("$pattern", pattern));
        foreach (var (id, recipients, mailed) in statuses)
            store.Execute("UPDATE statuses SET recipients = $recipients, mailed = $mailed WHERE job_id = $id", ("$id", id),
                ("$recipients", recipients is null ? null : Contract.EmailAddresses.Scrub(recipients, address)), ("$mailed", JobStatus.Without(mailed, address)));
        return statuses.Count;
    }, cancellationToken);

    private static List<(object Key, string? Recipients, string? Mailed)> Rows(SqliteDataReader reader)
    {
        var rows = new List<(object, string?, string?)>();
        while (reader.Read())
            rows.Add((reader.GetValue(0), reader.IsDBNull(1) ? null : reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2)));
        return rows;
    }

    public Task<JobStatus?> GetStatusAsync(string jobId, CancellationToken cancellationToken)
    {
        using var connection = Open();
        using var command = Command(connection, "SELECT status, at, attempt, kind, error, replays, client, recipients, mailed FROM statuses WHERE job_id = $id AND expires > $now",
            ("$id", jobId), ("$now", Now()));
        using var reader = command.ExecuteReader();
        JobStatus? status = reader.Read()
            ? new JobStatus(jobId, reader.GetString(0), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(1)),
                reader.IsDBNull(2) ? null : reader.GetInt32(2), reader.IsDBNull(3) ? null : reader.GetString(3),
                reader.IsDBNull(4) ? null : reader.GetString(4), reader.GetInt32(5), reader.IsDBNull(6) ? null : reader.GetString(6),
                RecipientOutcomes.FromJson(reader.IsDBNull(7) ? null : reader.GetString(7)), JobStatus.MailedOf(reader.IsDBNull(8) ? null : reader.GetString(8)))
            : null;
        return Task.FromResult(status);
    }

    private void CleanupIfDue(SqliteStatements store)
    {
        var now = Now();
        var due = Interlocked.Read(ref _nextCleanup);
        if (now < due || Interlocked.CompareExchange(ref _nextCleanup, now + (long)CleanupInterval.TotalMilliseconds, due) != due)
            return;
        store.Execute("""
            DELETE FROM idempotency_keys WHERE expires < $now;
            DELETE FROM sends WHERE expires < $now;
            DELETE FROM statuses WHERE expires < $now;
            """, ("$now", now));
    }

    /// <summary>Waits for the writes already asked for; later ones are refused.</summary>
    public ValueTask DisposeAsync() => _writer.DisposeAsync();

    /// <summary>Refuses further writes; those already asked for still commit, without waiting for them here.</summary>
    public void Dispose() => _writer.Close();

    private long Now() => _clock.GetUtcNow().ToUnixTimeMilliseconds();

    private long Expires() => Now() + (long)_options.Retention.TotalMilliseconds;

    private long Expires(JobStatus status) => status.KeepUntil(DateTimeOffset.FromUnixTimeMilliseconds(Now()), _options.Retention).ToUnixTimeMilliseconds();

    private SqliteConnection Open() => SqliteCommands.Open(_connectionString);

    private static SqliteCommand Command(SqliteConnection connection, string sql, params (string Name, object? Value)[] parameters) =>
        SqliteCommands.Command(connection, sql, parameters);

    private static void Execute(SqliteConnection connection, string sql, params (string Name, object? Value)[] parameters) =>
        SqliteCommands.Execute(connection, sql, parameters);

    private static object? Scalar(SqliteConnection connection, string sql, params (string Name, object? Value)[] parameters)
    {
        using var command = Command(connection, sql, parameters);
        var value = command.ExecuteScalar();
        return value is DBNull ? null : value;
    }
}
