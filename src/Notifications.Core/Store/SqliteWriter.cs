using System.Threading.Channels;
using Microsoft.Data.Sqlite;

namespace Notifications.Core.Store;

/// <summary>
/// Every write of one process, through one connection, in group commits: the writes waiting when a transaction starts
/// go into it together, and each caller's task completes only after the commit (so a job is acked only once its
/// marker is on disk). Statements are prepared once on that connection. A write still waiting can be cancelled; one
/// that began runs to the end, as it would alone.
/// </summary>
internal sealed class SqliteWriter : IAsyncDisposable
{
    // A bound on one transaction, so a burst of writes does not hold SQLite's write lock against the other processes for long.
    private const int MaxBatch = 256;

    private readonly string _connectionString;
    private readonly Channel<Write> _queue = Channel.CreateUnbounded<Write>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _loop;
    private readonly List<Write> _batch = new(MaxBatch);
    private SqliteStatements? _statements;

    public SqliteWriter(string connectionString)
    {
        _connectionString = connectionString;
        _loop = Task.Run(CommitLoopAsync);
    }

    /// <summary>Runs <paramref name="write"/> in the next group commit; its result once that commit is done.</summary>
    public Task<T> RunAsync<T>(Func<SqliteStatements, T> write, CancellationToken cancellationToken)
    {
        var queued = new Write<T>(write, cancellationToken);
        return _queue.Writer.TryWrite(queued) ? queued.Task : Task.FromException<T>(new ObjectDisposedException(nameof(SqliteJobStore)));
    }

    private async Task CommitLoopAsync()
    {
        while (await _queue.Reader.WaitToReadAsync())
        {
            _batch.Clear();
            while (_batch.Count < MaxBatch && _queue.Reader.TryRead(out var write))
                if (write.TryBegin())
                    _batch.Add(write);
            if (_batch.Count > 0)
                CommitBatch();
        }
        DropConnection();
    }

    private void CommitBatch()
    {
        try
        {
            _statements ??= new SqliteStatements(_connectionString);
            using var transaction = _statements.Begin();
            foreach (var write in _batch)
            {
                write.Run(_statements);
                // A failure SQLite answers by rolling the whole transaction back (disk full, I/O error): the writes after it
                // would each commit on their own, half of a batch its callers are told failed. Stop and fail them all.
                if (write.Failed && !_statements.InTransaction)
                    throw write.Error!;
            }
            transaction.Commit();
        }
        catch (Exception ex)
        {
            foreach (var write in _batch)
                write.Fail(ex);
            // The connection may be what broke (the file went away, a lock it could not take): the next batch opens a new one.
            DropConnection();
        }
        foreach (var write in _batch)
            write.Complete();
    }

    private void DropConnection()
    {
        try
        {
            _statements?.Dispose();
        }
        catch (Exception)
        {
            // Closing a broken connection may fail too; the loop must live on for the writes after this batch.
        }
        _statements = null;
    }

    /// <summary>No more writes; the loop commits those already queued and closes the connection.</summary>
    public void Close() => _queue.Writer.TryComplete();

    public async ValueTask DisposeAsync()
    {
        Close();
        await _loop;
    }

    private abstract class Write
    {
        private const int Queued = 0, Begun = 1, Cancelled = 2;
        private int _state;

        public Exception? Error { get; private set; }
        public bool Failed => Error is not null;

        /// <summary>Taken into a batch, unless its caller gave up waiting first.</summary>
        public bool TryBegin() => Interlocked.CompareExchange(ref _state, Begun, Queued) == Queued;

        protected bool TryCancel() => Interlocked.CompareExchange(ref _state, Cancelled, Queued) == Queued;

        public void Run(SqliteStatements statements)
        {
            try
            {
                Execute(statements);
            }
            catch (Exception ex)
            {
                Error = ex;
            }
        }

        public void Fail(Exception ex) => Error ??= ex;

        protected abstract void Execute(SqliteStatements statements);

        public abstract void Complete();
    }

    private sealed class Write<T> : Write
    {
        private readonly TaskCompletionSource<T> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly Func<SqliteStatements, T> _write;
        private readonly CancellationTokenRegistration _cancellation;
        private T? _result;

        public Write(Func<SqliteStatements, T> write, CancellationToken cancellationToken)
        {
            _write = write;
            if (cancellationToken.CanBeCanceled)
                _cancellation = cancellationToken.Register(() =>
                {
                    if (TryCancel())
                        _done.TrySetCanceled(cancellationToken);
                });
        }

        public Task<T> Task => _done.Task;

        protected override void Execute(SqliteStatements statements) => _result = _write(statements);

        public override void Complete()
        {
            _cancellation.Dispose();
            if (Error is { } error)
                _done.TrySetException(error);
            else
                _done.TrySetResult(_result!);
        }
    }
}
