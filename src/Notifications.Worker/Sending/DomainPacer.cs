using System.Diagnostics.Metrics;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Logging.Abstractions;
using Notifications.Core.Store;
using Notifications.Core.Telemetry;

namespace Notifications.Worker.Sending;

/// <summary>
/// <c>Smtp:DomainLimits</c>: mails a second per recipient domain. A job takes a turn from every limited domain among its
/// recipients and waits for the latest of them. It waits before it takes a sending slot, so a job for a slow domain
/// holds neither a slot nor an SMTP connection, and jobs for other domains go past it. Turns are handed out in arrival
/// order, spaced 1/rate apart; a turn not used (the job failed) is simply spent.
/// </summary>
public sealed class DomainPacer
{
    private readonly TimeProvider _clock;
    private readonly Dictionary<string, Domain> _domains;

    public DomainPacer(IOptions<SmtpOptions> options, TimeProvider clock, NotificationsTelemetry telemetry)
    {
        _clock = clock;
        _domains = options.Value.DomainLimits.ToDictionary(
            e => Normalize(e.Key), e => new Domain(Normalize(e.Key), (long)(clock.TimestampFrequency / e.Value),
                new SendWindow(Math.Max(1, (int)Math.Floor(e.Value)), clock, LocalRateBudget.Instance, NullLogger.Instance)), StringComparer.Ordinal);
        telemetry.ObserveGauge("notifications.smtp.waiting_for_domain", "{mail}", "Jobs waiting for their turn under Smtp:DomainLimits, by domain",
            () => _domains.Select(d => new Measurement<long>(Volatile.Read(ref d.Value.Waiting), new KeyValuePair<string, object?>("domain", d.Key))));
    }

    /// <summary>
    /// A metric tag for the job's first recipient's domain: the domain when <c>Smtp:DomainLimits</c> names it, else
    /// "other". Recipients choose their domains, so an open tag would grow a time series per domain ever mailed.
    /// </summary>
    public string MetricDomain(IEnumerable<string> recipients) =>
        recipients.FirstOrDefault() is { } first && DomainOf(first) is { } name && _domains.ContainsKey(name) ? name : "other";

    /// <summary>
    /// Waits until every limited domain of these recipients allows one more mail: its turn (spacing), then a permit of
    /// its <see cref="SendWindow"/>, so no one-second window at the relay holds more of the domain's mail than its limit.
    /// Dispose the answer once the job's send ended (sent, refused, failed or given back).
    /// </summary>
    public async ValueTask<IAsyncDisposable> WaitTurnAsync(IEnumerable<string> recipients, CancellationToken cancellationToken)
    {
        if (_domains.Count == 0)
            return Permits.None;
        List<Domain>? taken = null;
        var now = _clock.GetTimestamp();
        var latest = now;
        foreach (var recipient in recipients)
        {
            if (DomainOf(recipient) is not { } name || !_domains.TryGetValue(name, out var domain) || taken?.Contains(domain) == true)
                continue;
            (taken ??= []).Add(domain);
            latest = Math.Max(latest, domain.Reserve(now));
        }
        if (taken is null)
            return Permits.None;
        foreach (var domain in taken)
            Interlocked.Increment(ref domain.Waiting);
        var permits = new Permits();
        try
        {
            if (latest > now)
                await Task.Delay(_clock.GetElapsedTime(now, latest), _clock, cancellationToken);
            // In one order (by name) whatever the job's: two jobs for the same two domains never hold one each and wait for the other.
            foreach (var domain in taken.OrderBy(d => d.Name, StringComparer.Ordinal))
                permits.Add(await domain.Window.EnterAsync(cancellationToken));
            return permits;
        }
        catch
        {
            await permits.DisposeAsync();
            throw;
        }
        finally
        {
            foreach (var domain in taken)
                Interlocked.Decrement(ref domain.Waiting);
        }
    }

    /// <summary>The window permits of one job's limited domains.</summary>
    private sealed class Permits : IAsyncDisposable
    {
        public static readonly IAsyncDisposable None = new Permits();
        private readonly List<SendWindow.Permit> _held = [];

        public void Add(SendWindow.Permit permit) => _held.Add(permit);

        public async ValueTask DisposeAsync()
        {
            foreach (var permit in _held)
                await permit.DisposeAsync();
        }
    }

    /// <summary>The lower-case domain of an address as the job carries it ("Name &lt;a@B.com&gt;" → "b.com").</summary>
    public static string? DomainOf(string recipient)
    {
        var address = recipient.AsSpan().Trim();
        if (address.EndsWith(">") && address.LastIndexOf('<') is var open and >= 0)
            address = address[(open + 1)..^1];
        var at = address.LastIndexOf('@');
        return at < 0 ? null : Normalize(address[(at + 1)..].Trim().ToString());
    }

    public static bool IsDomainName(string value) =>
        value.Length is > 0 and <= 253 && !value.StartsWith('.') && !value.EndsWith('.')
        && value.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-');

    private static string Normalize(string domain) => domain.Trim().ToLowerInvariant();

    private sealed class Domain(string name, long spacing, SendWindow window)
    {
        public string Name => name;

        public SendWindow Window => window;

        private readonly Lock _lock = new();
        private long _nextTurn;
        public int Waiting;

        /// <summary>The timestamp of this mail's turn.</summary>
        public long Reserve(long now)
        {
            lock (_lock)
            {
                var turn = Math.Max(_nextTurn, now);
                _nextTurn = turn + spacing;
                return turn;
            }
        }
    }
}
