using System.Globalization;
using StackExchange.Redis;

namespace Notifications.Core.Store;

public sealed partial class RedisJobStore
{
    // KEYS: the client's hash (sent, paused_at, paused_reason) and its events (a sorted set: member = event key, score =
    // recipients counted when it came). ARGV: recipients to add, the window, then the events' keys ("b|…" or "c|…").
    private const string RecordReputationScript = """
        local sent = redis.call('HINCRBY', KEYS[1], 'sent', ARGV[1])
        for i = 3, #ARGV do redis.call('ZADD', KEYS[2], 'NX', sent, ARGV[i]) end
        local floor = sent - tonumber(ARGV[2])
        if tonumber(ARGV[1]) > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', floor) end
        local bounces, complaints = 0, 0
        for _, member in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '(' .. floor, '+inf')) do
            if string.sub(member, 1, 1) == 'c' then complaints = complaints + 1 else bounces = bounces + 1 end
        end
        local pause = redis.call('HMGET', KEYS[1], 'paused_at', 'paused_reason')
        return { sent, bounces, complaints, pause[1] or '', pause[2] or '' }
        """;

    private const string PauseScript = """
        if redis.call('HEXISTS', KEYS[1], 'paused_at') == 1 then return 0 end
        redis.call('HSET', KEYS[1], 'paused_at', ARGV[1], 'paused_reason', ARGV[2])
        return 1
        """;

    private const string ResumeScript = """
        local was = redis.call('HEXISTS', KEYS[1], 'paused_at')
        redis.call('DEL', KEYS[1], KEYS[2])
        return was
        """;

    private RedisKey[] ReputationKeys(string client) => [keyPrefix + "reputation:" + client, keyPrefix + "reputation-events:" + client];

    public async Task<ReputationState> RecordReputationAsync(string client, int sent, IReadOnlyCollection<ReputationEvent> events, int window,
        CancellationToken cancellationToken)
    {
        var result = (RedisResult[])(await Db.ScriptEvaluateAsync(RecordReputationScript, ReputationKeys(client),
            [sent, window, .. events.Select(e => (RedisValue)e.Key)]))!;
        var pausedAt = (string?)result[3];
        return new ReputationState(client, (long)result[0], window, (int)result[1], (int)result[2],
            string.IsNullOrEmpty(pausedAt) ? null : DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(pausedAt, CultureInfo.InvariantCulture)),
            string.IsNullOrEmpty((string?)result[4]) ? null : (string?)result[4]);
    }

    public async Task<bool> PauseClientAsync(string client, string reason, DateTimeOffset at, CancellationToken cancellationToken) =>
        (long)await Db.ScriptEvaluateAsync(PauseScript, [ReputationKeys(client)[0]], [at.ToUnixTimeMilliseconds(), reason]) == 1;

    public async Task<bool> ResumeClientAsync(string client, CancellationToken cancellationToken) =>
        (long)await Db.ScriptEvaluateAsync(ResumeScript, ReputationKeys(client)) == 1;
}
