using System.Globalization;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Notifications.Core.Store;

/// <summary>The store in Redis, shared by every API and worker instance.</summary>
public sealed class RedisJobStore(IConnectionMultiplexer redis, IOptions<StoreOptions> options, string keyPrefix = "notifications:")
    : IJobStore
{
    private const string Sent = "sent";

    // Compare-and-set of a status by its time, so an older event never overwrites a newer status.
    private const string SetStatusScript = """
        local at = tonumber(ARGV[2])
        local current = redis.call('HGET', KEYS[1], 'at')
        if current and tonumber(current) > at then return 0 end
        redis.call('DEL', KEYS[1])
        redis.call('HSET', KEYS[1], 'status', ARGV[1], 'at', ARGV[2], 'attempt', ARGV[3], 'kind', ARGV[4], 'error', ARGV[5])
        redis.call('PEXPIRE', KEYS[1], ARGV[6])
        return 1
        """;

    private readonly StoreOptions _options = options.Value;
    // Whose claim a key is: a worker gives up only its own claim, never one another worker took over.
    private readonly string _claim = "sending:" + Guid.NewGuid().ToString("N");
    private readonly IDatabase _db = redis.GetDatabase();

    public async Task<bool> TryRememberIdempotencyKeyAsync(string key, string requestHash, CancellationToken cancellationToken)
    {
        var redisKey = keyPrefix + "idem:" + key;
        if (await _db.StringSetAsync(redisKey, requestHash, _options.Retention, When.NotExists))
            return true;
        return await _db.StringGetAsync(redisKey) == requestHash;
    }

    public async Task<SendClaim> TryStartSendAsync(string jobId, CancellationToken cancellationToken)
    {
        var key = SendKey(jobId);
        // The lease expires by itself, so a worker that died mid-send does not block the job for ever.
        if (await _db.StringSetAsync(key, _claim, _options.SendLease, When.NotExists))
            return SendClaim.Acquired;
        return await _db.StringGetAsync(key) == Sent ? SendClaim.AlreadySent : SendClaim.InProgress;
    }

    public Task MarkSentAsync(string jobId, CancellationToken cancellationToken) =>
        _db.StringSetAsync(SendKey(jobId), Sent, _options.Retention);

    public async Task ReleaseSendAsync(string jobId, CancellationToken cancellationToken)
    {
        var key = SendKey(jobId);
        // WATCH-based compare-and-delete: the atomic StringDelete(ValueCondition) needs Redis 8.4, Debian ships 7.
#pragma warning disable SER301
        var transaction = _db.CreateTransaction();
        transaction.AddCondition(Condition.StringEqual(key, _claim));
        _ = transaction.KeyDeleteAsync(key);
        await transaction.ExecuteAsync();
#pragma warning restore SER301
    }

    public Task SetStatusAsync(JobStatus status, CancellationToken cancellationToken) =>
        _db.ScriptEvaluateAsync(SetStatusScript, [keyPrefix + "status:" + status.JobId],
        [
            status.Status,
            status.At.ToUnixTimeMilliseconds(),
            status.Attempt?.ToString(CultureInfo.InvariantCulture) ?? "",
            status.Kind ?? "",
            status.Error ?? "",
            (long)_options.Retention.TotalMilliseconds,
        ]);

    public async Task<JobStatus?> GetStatusAsync(string jobId, CancellationToken cancellationToken)
    {
        var fields = (await _db.HashGetAllAsync(keyPrefix + "status:" + jobId)).ToDictionary(e => (string)e.Name!, e => (string?)e.Value);
        if (fields.Count == 0)
            return null;
        return new JobStatus(jobId, fields["status"]!,
            DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(fields["at"]!, CultureInfo.InvariantCulture)),
            int.TryParse(fields.GetValueOrDefault("attempt"), CultureInfo.InvariantCulture, out var attempt) ? attempt : null,
            NullIfEmpty(fields.GetValueOrDefault("kind")), NullIfEmpty(fields.GetValueOrDefault("error")));
    }

    private string SendKey(string jobId) => keyPrefix + "send:" + jobId;

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}
