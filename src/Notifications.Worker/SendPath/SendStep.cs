using System.Diagnostics;
using Notifications.Core.Store;
using Notifications.Core.Telemetry;
using Notifications.Worker.Sending;
using Notifications.Worker.Claims;

namespace Notifications.Worker.SendPath;

/// <summary>
/// Send, at the relay's pace, until the relay says yes. A relay outage or a "slow down" is not the job's failure: the
/// job waits, costing no attempt, and goes back to the queue if that lasts longer than <c>Smtp:OutageHold</c>. The last
/// step, it calls no <c>next</c>: nothing that follows the relay's 250 runs in here, so no failure of it can be mistaken for the send's.
/// </summary>
/// <remarks>
/// A test client's mail goes to the <see cref="RelaySimulator"/> instead, through the same pacing, claims and answers: a
/// job accepted as a test client's never reaches the relay, whatever the client's mode is by the time it is sent.
/// </remarks>
public sealed class SendStep(
    SmtpRelay relay,
    RelaySimulator simulator,
    Core.Clients.ClientRegistry clients,
    RelayPacer pacer,
    DomainPacer domains,
    RelayOutage outage,
    SendGuard guard,
    NotificationsTelemetry telemetry,
    TimeProvider clock) : ISendStep
{
    private static readonly TimeSpan HoldPollInterval = TimeSpan.FromMilliseconds(200);

    public async Task RunAsync(SendContext context, SendStepDelegate next)
    {
        var job = context.RequireJob();
        var message = context.Message ?? throw new InvalidOperationException("no message yet: SendStep runs before BuildStep");
        var simulated = clients.Simulates(job);
        var throttledSince = (DateTimeOffset?)null;
        while (true)
        {
            try
            {
                SendResult result;
                using (guard.KeepClaim(job.Id))
                    result = await SendOnceAsync(context, message, simulated);
                outage.Ended();
                telemetry.Sent.Add(1, new KeyValuePair<string, object?>("mode", Core.Clients.ClientModes.Tag(simulated)));
                telemetry.DeliveryLatency.Record((clock.GetUtcNow() - job.CreatedAt).TotalSeconds);
                context.Outcome = new JobOutcome.Sent(result, context.Delivery.PreviousAttempts + 1);
                return; // the last step: what follows the 250 is the settlement's
            }
            catch (Exception ex) when (SmtpFailure.IsThrottle(ex))
            {
                // "Slow down" is the relay's pace, not this mail's failure: go slower and send it again, costing no attempt.
                pacer.Throttled();
                telemetry.Throttled.Add(1, new KeyValuePair<string, object?>("domain", domains.MetricDomain(context.RequireEnvelope().Send)));
                throttledSince ??= clock.GetUtcNow();
                if (clock.GetUtcNow() - throttledSince > outage.Hold)
                {
                    // Throttled for as long as an outage may hold a job: give it back rather than hold it past the broker's patience.
                    context.Outcome = new JobOutcome.Returned("the relay kept asking to slow down for longer than Smtp:OutageHold");
                    return;
                }
                if (!await ClaimAgainAsync(context, job.Id, wait: TimeSpan.Zero))
                    return;
            }
            catch (Exception ex) when (relay.IsOutage(ex))
            {
                // The relay is down, not this mail: wait without spending an attempt. Sending again through the circuit is
                // what lets it half-open after the break and probe the relay; checking its state alone never does.
                if (outage.HoldExpired())
                {
                    outage.TryPause();
                    context.Outcome = new JobOutcome.Returned("the relay has been down for longer than Smtp:OutageHold");
                    return;
                }
                if (!await ClaimAgainAsync(context, job.Id, HoldPollInterval))
                    return;
            }
        }
    }

    /// <summary>What the relay answered each recipient: its refusal, or the reply to the mail.</summary>
    private static List<(string, string)> Replies(IReadOnlyList<string> recipients, SendResult result)
    {
        var refused = result.Refused.Count == 0 ? null : result.Refused.ToDictionary(r => r.Address, r => r.Reply, StringComparer.OrdinalIgnoreCase);
        var replies = new List<(string, string)>(recipients.Count);
        foreach (var recipient in recipients)
        {
            var address = Core.Contract.EmailAddresses.TryParseMailbox(recipient, out var mailbox, out _) ? mailbox!.Address : recipient;
            replies.Add((address, refused?.GetValueOrDefault(address) ?? result.Reply));
        }
        return replies;
    }

    /// <summary>
    /// A hold can outlast the claim's lease: give the claim up while waiting, take it again before sending. False (and the
    /// outcome set) when another delivery sent the job meanwhile.
    /// </summary>
    private async Task<bool> ClaimAgainAsync(SendContext context, string jobId, TimeSpan wait)
    {
        context.HoldsClaim = false;
        await guard.ReleaseAsync(jobId);
        if (wait > TimeSpan.Zero)
            await Task.Delay(wait, clock, context.HoldsAborted);
        if (await guard.ClaimAsync(jobId, context.SendsAborted) == SendClaim.AlreadySent)
        {
            context.Outcome = JobOutcome.AlreadySent;
            return false;
        }
        context.HoldsClaim = true;
        return true;
    }

    private async Task<SendResult> SendOnceAsync(SendContext context, MimeKit.MimeMessage message, bool test)
    {
        var job = context.RequireJob();
        // The relay's pace is the relay's: simulated sends take no turn of it, so test traffic never slows live mail.
        await using var turn = test ? null : await pacer.TakeTurnAsync(context.SendsAborted);
        using var activity = NotificationsTelemetry.Source.StartActivity(test ? "simulated send" : "smtp send", ActivityKind.Client);
        var started = clock.GetTimestamp();
        var at = clock.GetUtcNow();
        var number = context.Delivery.PreviousAttempts + 1;
        try
        {
            var result = test
                ? await simulator.SendAsync(job, context.RequireEnvelope().Send, number, context.SendsAborted)
                : await relay.SendAsync(message, context.Sender, context.Mailboxes, context.SendsAborted);
            context.Attempt = new RelayAttempt(number, at, result.Relay, result.Tls, clock.GetElapsedTime(started).TotalMilliseconds,
                Replies(context.RequireEnvelope().Send, result));
            return result;
        }
        catch (Exception ex)
        {
            activity?.SetStatus(ActivityStatusCode.Error, SmtpFailure.Describe(ex));
            var refused = (ex as RecipientsRefusedException)?.Refused;
            context.Attempt = new RelayAttempt(number, at, test ? RelaySimulator.Name : relay.Describe(), null, clock.GetElapsedTime(started).TotalMilliseconds,
                refused is not null ? [.. refused.Select(r => (r.Address, r.Reply))] : [.. context.RequireEnvelope().Send.Select(r => (r, SmtpFailure.Describe(ex)))]);
            throw;
        }
        finally
        {
            telemetry.SmtpDuration.Record(clock.GetElapsedTime(started).TotalSeconds);
        }
    }
}
