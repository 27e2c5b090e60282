using Microsoft.Data.Sqlite;

namespace Notifications.Core.Store;

/// <summary>
/// The writer's connection and its statements, each prepared once and bound again for every use: parsing and planning
/// the same SQL for every job cost more than running it.
/// </summary>
internal sealed class SqliteStatements : IDisposable
{
    // Enough for every statement the store writes, and the suppression lookups of 1..50 recipients.
    private const int MaxPrepared = 128;
    private const int BusyTimeoutMs = 30_000;

    private readonly SqliteConnection _connection;
    private readonly Dictionary<string, SqliteCommand> _prepared = new(StringComparer.Ordinal);
    private SqliteTransaction? _transaction;

    public SqliteStatements(string connectionString)
    {
        _connection = new SqliteConnection(connectionString);
        _connection.Open();
        // When another process holds the write lock, SQLite's own wait (1, 2, 5, 10 ms…) takes the lock soon after it is
        // free; left to Microsoft.Data.Sqlite, a busy statement sleeps 150 ms a try (the pipeline's POST p99 of 200-600 ms).
        using var wait = _connection.CreateCommand();
        wait.CommandText = $"PRAGMA busy_timeout = {BusyTimeoutMs}";
        wait.ExecuteNonQuery();
    }

    /// <summary>A transaction that takes SQLite's write lock at once (BEGIN IMMEDIATE), so it cannot fail halfway for a lock.</summary>
    public SqliteTransaction Begin() => _transaction = _connection.BeginTransaction(deferred: false);

    /// <summary>False once SQLite rolled the transaction back by itself (after a disk-full or I/O error).</summary>
    public bool InTransaction => SQLitePCL.raw.sqlite3_get_autocommit(_connection.Handle) == 0;

    public int Execute(string sql, params (string Name, object? Value)[] parameters) => Bind(sql, parameters).ExecuteNonQuery();

    public object? Scalar(string sql, params (string Name, object? Value)[] parameters) =>
        Bind(sql, parameters).ExecuteScalar() is var value && value is DBNull ? null : value;

    public T Query<T>(string sql, Func<SqliteDataReader, T> read, params (string Name, object? Value)[] parameters)
    {
        using var reader = Bind(sql, parameters).ExecuteReader();
        return read(reader);
    }

    private SqliteCommand Bind(string sql, (string Name, object? Value)[] parameters)
    {
        if (!_prepared.TryGetValue(sql, out var command))
        {
            if (_prepared.Count >= MaxPrepared)
                ClearPrepared();
            command = _connection.CreateCommand();
            command.CommandText = sql;
            command.Transaction = _transaction;
            foreach (var (name, _) in parameters)
                command.Parameters.Add(new SqliteParameter { ParameterName = name });
            command.Prepare();
            _prepared[sql] = command;
        }
        command.Transaction = _transaction;
        for (var i = 0; i < parameters.Length; i++)
            command.Parameters[i].Value = parameters[i].Value ?? DBNull.Value;
        return command;
    }

    private void ClearPrepared()
    {
        foreach (var command in _prepared.Values)
            command.Dispose();
        _prepared.Clear();
    }

    public void Dispose()
    {
        ClearPrepared();
        _connection.Dispose();
    }
}
