using System.Globalization;
using Microsoft.Extensions.Options;
using System.Text.Json;
using StackExchange.Redis;

namespace Notifications.Core.Store;

/// <summary>The store in Redis, shared by every API and worker instance.</summary>
public sealed partial class RedisJobStore(Task<IConnectionMultiplexer> redis, IOptions<StoreOptions> options, string keyPrefix = "notifications:")
    : IJobStore, IRateBudget
{
    private const string Sent = "sent";

    // Compare-and-set of a status by its place in the job's life, so a late event never overwrites a later state; with
    // ARGV[11] set, only while the status is that one (a cancel against a worker taking the due job). Every status is
    // A status is never kept
    // for less time than the one before it was (a scheduled job's lives until its due time plus the retention).
    private const string SetStatusScript = """
        if ARGV[11] ~= '' then
            if redis.call('HGET', KEYS[1], 'status') ~= ARGV[11] then return 0 end
        end
        local keep = tonumber(ARGV[6])
        local left = redis.call('PTTL', KEYS[1])
        if left > keep then keep = left end
        if ARGV[11] == '' then
            local current = redis.call('HGET', KEYS[1], 'ord')
            if current and tonumber(current) > tonumber(ARGV[7]) then return 0 end
        end
        local client = ARGV[9]
        if client == '' then client = redis.call('HGET', KEYS[1], 'client') or '' end
        local mailed = ARGV[13]
        if mailed == '' then mailed = redis.call('HGET', KEYS[1], 'mailed') or '' end
        redis.call('DEL', KEYS[1])
        redis.call('HSET', KEYS[1], 'status', ARGV[1], 'at', ARGV[2], 'attempt', ARGV[3], 'kind', ARGV[4], 'error', ARGV[5],
            'ord', ARGV[7], 'replays', ARGV[8], 'client', client, 'recipients', ARGV[10], 'mailed', mailed)
        redis.call('PEXPIRE', KEYS[1], keep)
        return 1
        """;

    // Extends the lease only while the claim is still this worker's.
    private const string RenewScript = """
        if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
        return 0
        """;

    // Turns of a shared pace, in microseconds of the Redis server's own clock (one clock for every worker). The key
    // holds the next free turn; it lapses after a minute unused.
    private const string ReserveTurnsScript = """
        local time = redis.call('TIME')
        local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
        local turn = math.max(tonumber(redis.call('GET', KEYS[1]) or '0'), now)
        redis.call('SET', KEYS[1], string.format('%.0f', turn + tonumber(ARGV[1]) * tonumber(ARGV[2])), 'PX', 60000)
        return turn - now
        """;

    // A window of permits: a sorted set of holders scored by when their permit is free again (Redis's clock, µs). A
    // send in flight is scored its lease ahead; when it ends, its hold ahead. Free permits are the members scored in the past.
    private const string HoldScript = """
        local time = redis.call('TIME')
        local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
        redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. string.format('%.0f', now))
        if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
            redis.call('ZADD', KEYS[1], string.format('%.0f', now + tonumber(ARGV[3])), ARGV[1])
            redis.call('PEXPIRE', KEYS[1], 60000)
            return -1
        end
        local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
        return math.max(1, tonumber(first[2]) - now)
        """;

    private const string ReleaseHoldScript = """
        local time = redis.call('TIME')
        local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
        redis.call('ZADD', KEYS[1], 'XX', string.format('%.0f', now + tonumber(ARGV[2])), ARGV[1])
        return 1
        """;

    private readonly StoreOptions _options = options.Value;
    // Whose claim a key is: a worker gives up only its own claim, never one another worker took over.
    private readonly string _claim = "sending:" + Guid.NewGuid().ToString("N");
    public RedisJobStore(IConnectionMultiplexer redis, IOptions<StoreOptions> options, string keyPrefix = "notifications:")
        : this(Task.FromResult(redis), options, keyPrefix)
    {
    }

    // Connected at start-up (RedisConnector); until then every call fails as a store failure, which callers survive.
    private IDatabase Db => redis.IsCompletedSuccessfully
        ? redis.Result.GetDatabase()
        : throw new RedisException("Redis is not connected yet");

    public async Task<bool> TryRememberIdempotencyKeyAsync(string key, string requestHash, CancellationToken cancellationToken)
    {
        var redisKey = keyPrefix + "idem:" + key;
        if (await Db.StringSetAsync(redisKey, requestHash, _options.Retention, When.NotExists))
            return true;
        return await Db.StringGetAsync(redisKey) == requestHash;
    }

    public async Task<SendClaim> TryStartSendAsync(string jobId, CancellationToken cancellationToken)
    {
        var key = SendKey(jobId);
        // The lease expires by itself, so a worker that died mid-send does not block the job for ever.
        if (await Db.StringSetAsync(key, _claim, _options.SendLease, When.NotExists))
            return SendClaim.Acquired;
        return await Db.StringGetAsync(key) == Sent ? SendClaim.AlreadySent : SendClaim.InProgress;
    }

    public async Task<bool> RenewSendAsync(string jobId, CancellationToken cancellationToken) =>
        (long)await Db.ScriptEvaluateAsync(RenewScript, [SendKey(jobId)], [_claim, (long)_options.SendLease.TotalMilliseconds]) == 1;

    public async Task MarkSentAsync(string jobId, JobStatus sent, CancellationToken cancellationToken)
    {
        // The marker and the status in one round trip (MULTI/EXEC).
#pragma warning disable SER301
        var transaction = Db.CreateTransaction();
        _ = transaction.StringSetAsync(SendKey(jobId), Sent, _options.Retention);
        _ = SetStatusAsync(transaction, sent);
        await transaction.ExecuteAsync();
#pragma warning restore SER301
    }

    public async Task ReleaseSendAsync(string jobId, CancellationToken cancellationToken)
    {
        var key = SendKey(jobId);
        // WATCH-based compare-and-delete: the atomic StringDelete(ValueCondition) needs Redis 8.4, Debian ships 7.
#pragma warning disable SER301
        var transaction = Db.CreateTransaction();
        transaction.AddCondition(Condition.StringEqual(key, _claim));
        _ = transaction.KeyDeleteAsync(key);
        await transaction.ExecuteAsync();
#pragma warning restore SER301
    }

    public Task SetStatusAsync(JobStatus status, CancellationToken cancellationToken) => SetStatusAsync(Db, status);

    public async Task<bool> TryChangeStatusAsync(JobStatus status, string expected, CancellationToken cancellationToken) =>
        (long)await Db.ScriptEvaluateAsync(SetStatusScript, StatusKeys(status.JobId), StatusArguments(status, expected)) == 1;

    private Task SetStatusAsync(IDatabaseAsync db, JobStatus status) =>
        db.ScriptEvaluateAsync(SetStatusScript, StatusKeys(status.JobId), StatusArguments(status, expected: ""));

    private RedisKey[] StatusKeys(string jobId) => [keyPrefix + "status:" + jobId];

    private RedisValue[] StatusArguments(JobStatus status, string expected) =>
        [
            status.Status,
            status.At.ToUnixTimeMilliseconds(),
            status.Attempt?.ToString(CultureInfo.InvariantCulture) ?? "",
            status.Kind ?? "",
            status.Error ?? "",
            (long)KeepFor(status).TotalMilliseconds,
            status.Order,
            status.Replays,
            status.Client ?? "",
            status.Recipients is { IsEmpty: false } recipients ? recipients.ToJson() : "",
            expected,
            "", // was the history entry (the message log keeps the timeline now)
            status.MailedText() ?? "",
        ];

    /// <summary>How long from now the store keeps this status: the retention, or until the job's due time plus it.</summary>
    private TimeSpan KeepFor(JobStatus status)
    {
        var now = TimeProvider.System.GetUtcNow();
        return status.KeepUntil(now, _options.Retention) - now;
    }

    public async Task<JobStatus?> GetStatusAsync(string jobId, CancellationToken cancellationToken)
    {
        var fields = (await Db.HashGetAllAsync(keyPrefix + "status:" + jobId)).ToDictionary(e => (string)e.Name!, e => (string?)e.Value);
        if (fields.Count == 0)
            return null;
        return new JobStatus(jobId, fields["status"]!,
            DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(fields["at"]!, CultureInfo.InvariantCulture)),
            int.TryParse(fields.GetValueOrDefault("attempt"), CultureInfo.InvariantCulture, out var attempt) ? attempt : null,
            NullIfEmpty(fields.GetValueOrDefault("kind")), NullIfEmpty(fields.GetValueOrDefault("error")),
            int.TryParse(fields.GetValueOrDefault("replays"), CultureInfo.InvariantCulture, out var replays) ? replays : 0,
            NullIfEmpty(fields.GetValueOrDefault("client")), RecipientOutcomes.FromJson(fields.GetValueOrDefault("recipients")),
            JobStatus.MailedOf(fields.GetValueOrDefault("mailed")));
    }

    /// <summary>Walks every status and history key (SCAN, in pages): an erasure is rare, and Redis has no index of addresses.</summary>
    public async Task<int> EraseAddressAsync(string address, CancellationToken cancellationToken)
    {
        var changed = 0;
        foreach (var endpoint in (await redis).GetEndPoints())
        {
            var server = (await redis).GetServer(endpoint);
            if (server.IsReplica)
                continue;
            await foreach (var key in server.KeysAsync(Db.Database, keyPrefix + "status:*", pageSize: 1_000).WithCancellation(cancellationToken))
            {
                var fields = await Db.HashGetAsync(key, ["recipients", "mailed"]);
                var recipients = (string?)fields[0];
                var mailed = (string?)fields[1];
                if (recipients?.Contains(address, StringComparison.OrdinalIgnoreCase) != true && mailed?.Contains(address, StringComparison.OrdinalIgnoreCase) != true)
                    continue;
                await Db.HashSetAsync(key, [new HashEntry("recipients", recipients is null ? "" : Contract.EmailAddresses.Scrub(recipients, address)),
                    new HashEntry("mailed", JobStatus.Without(mailed, address) ?? "")]);
                changed++;
            }
        }
        return changed;
    }

    private string SendKey(string jobId) => keyPrefix + "send:" + jobId;

    public bool IsShared => true;

    public async Task<TimeSpan?> TryHoldAsync(string budget, string holder, int limit, TimeSpan lease, CancellationToken cancellationToken)
    {
        var wait = (long)await Db.ScriptEvaluateAsync(HoldScript, [keyPrefix + "window:" + budget], [holder, limit, lease.Ticks / 10]);
        return wait < 0 ? null : TimeSpan.FromTicks(wait * 10);
    }

    public Task ReleaseHoldAsync(string budget, string holder, TimeSpan after, CancellationToken cancellationToken) =>
        Db.ScriptEvaluateAsync(ReleaseHoldScript, [keyPrefix + "window:" + budget], [holder, after.Ticks / 10]);

    public async Task<TimeSpan> ReserveAsync(string budget, int count, TimeSpan spacing, CancellationToken cancellationToken)
    {
        var spacingMicroseconds = Math.Max(1L, (long)(spacing.Ticks / 10));
        var waitMicroseconds = (long)await Db.ScriptEvaluateAsync(ReserveTurnsScript, [keyPrefix + "rate:" + budget], [count, spacingMicroseconds]);
        return TimeSpan.FromTicks(Math.Max(0, waitMicroseconds) * 10);
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}
