using System.Diagnostics.Metrics;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Notifications.Core.Store;
using Notifications.Core.Telemetry;

namespace Notifications.Worker.Sending;

/// <summary>
/// How fast this worker may send to the relay: at most <c>Smtp:MaxPerSecond</c> (0 = no limit), and slower while the
/// relay says "slow down" — halved on every throttling reply, raised again by a twentieth of the ceiling each quiet
/// second (additive increase, multiplicative decrease). A send takes its turn before it takes an SMTP connection,
/// so waiting holds no connection and spends no attempt. With the Redis store the turns come from a budget every
/// worker shares (<see cref="IRateBudget"/>), reserved a twentieth of a second's worth at a time; if Redis does not
/// answer, the worker paces on its own until it does. Spacing alone lets sends bunch at the relay (a send's time on the
/// wire varies), so a <see cref="SendWindow"/> also holds every one-second window at the relay to the limit.
/// </summary>
public sealed class RelayPacer
{
    private const double Unlimited = double.PositiveInfinity;
    private static readonly TimeSpan QuietSecond = TimeSpan.FromSeconds(1);

    private readonly Lock _lock = new();
    private readonly TimeProvider _clock;
    private readonly double _maxPerSecond;
    private double _rate;
    private double _ceiling;
    private long _nextTurn;         // timestamp ticks (TimeProvider) of the next free turn
    private long _lastChange;       // when the rate last changed (throttle or raise)
    private long _lastThrottle;
    private long _windowStart;      // for the observed rate before the first throttle
    private int _sentInWindow;
    private double _observedRate;
    private int _waiting;

    private const string BudgetName = "relay";
    private static readonly TimeSpan WarnEvery = TimeSpan.FromSeconds(30);
    private readonly IRateBudget _budget;
    private readonly ILogger<RelayPacer> _logger;
    private readonly SemaphoreSlim _reserving = new(1, 1);
    private readonly Queue<long> _reserved = new(); // turns taken from the shared budget and not used yet
    private long _lastWarning;
    private readonly SendWindow? _window;

    public RelayPacer(IOptions<SmtpOptions> options, TimeProvider clock, NotificationsTelemetry telemetry, IRateBudget budget,
        ILogger<RelayPacer> logger)
    {
        _clock = clock;
        _budget = budget;
        _logger = logger;
        _maxPerSecond = options.Value.MaxPerSecond > 0 ? options.Value.MaxPerSecond : Unlimited;
        _window = options.Value.MaxPerSecond > 0 ? new SendWindow(options.Value.MaxPerSecond, clock, budget, logger) : null;
        _rate = _ceiling = _maxPerSecond;
        _windowStart = _lastChange = clock.GetTimestamp();
        telemetry.ObserveGauge("notifications.smtp.allowed_rate", "{mail}/s", "Mails a second the worker allows itself now (-1: no limit)",
            () => [new Measurement<long>(double.IsInfinity(CurrentRate) ? -1 : (long)CurrentRate)]);
        telemetry.ObserveGauge("notifications.smtp.waiting_for_turn", "{mail}", "Sends waiting for their turn under the rate",
            () => [new Measurement<long>(Volatile.Read(ref _waiting))]);
    }

    /// <summary>The rate in force now (infinity: no limit).</summary>
    public double CurrentRate
    {
        get
        {
            lock (_lock)
            {
                RaiseIfQuiet_NeedsLock(_clock.GetTimestamp());
                return _rate;
            }
        }
    }

    /// <summary>
    /// Waits for this send's turn under the current rate, then for a permit of the <see cref="SendWindow"/> (no one-second
    /// window at the relay above <c>Smtp:MaxPerSecond</c>). Dispose the answer once the send ended.
    /// </summary>
    public async ValueTask<IAsyncDisposable> TakeTurnAsync(CancellationToken cancellationToken)
    {
        await WaitTurnAsync(cancellationToken);
        return _window is null ? NoPermit.Instance : await _window.EnterAsync(cancellationToken);
    }

    private sealed class NoPermit : IAsyncDisposable
    {
        public static readonly NoPermit Instance = new();

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    /// <summary>Waits for this send's turn under the current rate (spacing only; <see cref="TakeTurnAsync"/> adds the window).</summary>
    /// <remarks>
    /// A send that wakes up well after its turn (a busy machine delays timers) takes a new turn instead of going at once:
    /// late sends would otherwise bunch up with the ones on time, and a 1-second window could hold more than the rate
    /// (CI saw 58 at 50/s with two workers). After <see cref="MaxLateRetries"/> late wake-ups it goes anyway.
    /// </remarks>
    public async ValueTask WaitTurnAsync(CancellationToken cancellationToken)
    {
        for (var late = 0; ; late++)
        {
            TimeSpan wait;
            double rate;
            lock (_lock)
            {
                var now = _clock.GetTimestamp();
                RaiseIfQuiet_NeedsLock(now);
                if (late == 0)
                    CountSend_NeedsLock(now);
                if (double.IsInfinity(_rate))
                    return;
                rate = _rate;
                wait = _budget.IsShared ? TimeSpan.Zero : LocalTurn_NeedsLock(now);
            }
            if (_budget.IsShared)
                wait = await SharedTurnAsync(rate, cancellationToken);
            if (wait <= TimeSpan.Zero)
                return;
            var due = _clock.GetTimestamp() + (long)(wait.TotalSeconds * _clock.TimestampFrequency);
            Interlocked.Increment(ref _waiting);
            try
            {
                await Task.Delay(wait, _clock, cancellationToken);
            }
            finally
            {
                Interlocked.Decrement(ref _waiting);
            }
            var lateBy = _clock.GetElapsedTime(due, _clock.GetTimestamp());
            if (lateBy.TotalSeconds <= 1 / rate || late >= MaxLateRetries)
                return;
        }
    }

    private const int MaxLateRetries = 3;

    private TimeSpan LocalTurn_NeedsLock(long now)
    {
        var turn = Math.Max(_nextTurn, now);
        _nextTurn = turn + (long)(_clock.TimestampFrequency / _rate);
        return _clock.GetElapsedTime(now, turn);
    }

    /// <summary>The next turn from the shared budget: one reserved earlier, or the first of a fresh batch.</summary>
    private async ValueTask<TimeSpan> SharedTurnAsync(double rate, CancellationToken cancellationToken)
    {
        await _reserving.WaitAsync(cancellationToken);
        try
        {
            var now = _clock.GetTimestamp();
            var spacing = (long)(_clock.TimestampFrequency / rate);
            while (_reserved.TryDequeue(out var turn))
                if (turn >= now - spacing) // a turn long past was not used in time: it is gone, or the pace would burst
                    return _clock.GetElapsedTime(now, turn);
            var batch = Math.Clamp((int)Math.Ceiling(rate / 20), 1, 50);
            TimeSpan first;
            try
            {
                first = await _budget.ReserveAsync(BudgetName, batch, TimeSpan.FromSeconds(1 / rate), cancellationToken);
            }
            catch (Exception ex) when (StoreRegistration.IsStoreFailure(ex))
            {
                WarnNowAndThen(ex);
                lock (_lock)
                    return LocalTurn_NeedsLock(now);
            }
            now = _clock.GetTimestamp();
            var start = now + (long)(first.TotalSeconds * _clock.TimestampFrequency);
            for (var i = 1; i < batch; i++)
                _reserved.Enqueue(start + i * spacing);
            return first;
        }
        finally
        {
            _reserving.Release();
        }
    }

    private void WarnNowAndThen(Exception ex)
    {
        var now = _clock.GetTimestamp();
        var last = Interlocked.Read(ref _lastWarning);
        if (last != 0 && _clock.GetElapsedTime(last, now) < WarnEvery)
            return;
        Interlocked.Exchange(ref _lastWarning, now);
        _logger.LogWarning("The shared send budget in Redis did not answer ({Reason}); this worker paces on its own meanwhile", ex.Message);
    }

    /// <summary>
    /// The relay said "slow down": halve the rate (from what was being sent, when there was no limit) — once a second at
    /// most, since the sends already on their way when the relay first said it will hear the same and must not halve again.
    /// </summary>
    public void Throttled()
    {
        lock (_lock)
        {
            var now = _clock.GetTimestamp();
            if (_lastThrottle != 0 && _clock.GetElapsedTime(_lastThrottle, now) < QuietSecond)
                return;
            if (double.IsInfinity(_rate))
            {
                // No limit yet: start from what actually went out in the last second.
                _ceiling = Math.Max(_observedRate, _sentInWindow / Math.Max(_clock.GetElapsedTime(_windowStart, now).TotalSeconds, 0.001));
                _rate = Math.Max(1, _ceiling);
            }
            _rate = Math.Max(1, _rate / 2);
            _lastThrottle = _lastChange = now;
            _nextTurn = Math.Max(_nextTurn, now);
        }
    }

    private void RaiseIfQuiet_NeedsLock(long now)
    {
        if (_rate >= _ceiling || _clock.GetElapsedTime(_lastThrottle, now) < QuietSecond)
            return;
        var quietSeconds = Math.Floor(_clock.GetElapsedTime(_lastChange, now).TotalSeconds);
        if (quietSeconds < 1)
            return;
        _rate = Math.Min(_ceiling, _rate + quietSeconds * Math.Max(1, _ceiling / 20));
        _lastChange = now;
        if (_rate >= _ceiling)
            _rate = _ceiling = double.IsInfinity(_maxPerSecond) ? Unlimited : _maxPerSecond;
    }

    private void CountSend_NeedsLock(long now)
    {
        if (_clock.GetElapsedTime(_windowStart, now) >= QuietSecond)
        {
            _observedRate = _sentInWindow / _clock.GetElapsedTime(_windowStart, now).TotalSeconds;
            _windowStart = now;
            _sentInWindow = 0;
        }
        _sentInWindow++;
    }
}
