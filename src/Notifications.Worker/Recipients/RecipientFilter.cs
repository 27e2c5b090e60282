using Microsoft.Extensions.Logging;
using Notifications.Core.Contract;
using Notifications.Core.Store;
using Notifications.Core.Suppressions;
using Notifications.Core.Telemetry;

namespace Notifications.Worker.Recipients;

/// <summary>
/// The suppression list at the worker: leaves suppressed recipients out of a job before it is sent (one store lookup
/// per job, however many recipients), and puts the addresses of hard bounces on the list.
/// </summary>
public sealed class RecipientFilter(ISuppressions suppressions, NotificationsTelemetry telemetry, TimeProvider clock, ILogger<RecipientFilter> logger)
{
    /// <summary>
    /// The job's envelope without its suppressed recipients. A store that does not answer suppresses nothing: the job
    /// is sent to every recipient (logged), as the sent marker does without its store — a mail too many, never one lost.
    /// </summary>
    public async Task<Envelope> PrepareAsync(EmailJob job, CancellationToken cancellationToken)
    {
        var recipients = job.EnvelopeRecipients().ToList();
        var keys = recipients.Select(SuppressedAddress.Normalize).ToList();
        // List mail is also held back from whoever left that list of that client: the same one lookup asks for both keys.
        var listKeys = job.List is { } list ? keys.Select(k => k is null ? null : SuppressedAddress.ListKey(k, job.Client, list)).ToList() : null;
        // A client's mail is held back from whoever complained of it (a complaint's entry is for every list of that client).
        var clientKeys = job.Client is { } client ? keys.Select(k => k is null ? null : SuppressedAddress.ListKey(k, client, Suppression.EveryList)).ToList() : null;
        IReadOnlyDictionary<string, Suppression> found;
        try
        {
            found = await suppressions.FindSuppressionsAsync(
                [.. keys.Concat(listKeys ?? []).Concat(clientKeys ?? []).OfType<string>().Distinct(StringComparer.Ordinal)], cancellationToken);
        }
        catch (Exception ex) when (StoreRegistration.IsStoreFailure(ex))
        {
            logger.LogWarning("Job store unavailable ({Reason}); job {JobId} is sent without checking the suppression list", ex.Message, job.Id);
            return new Envelope(recipients, [], Everyone: job.OnlyTo is null);
        }
        if (found.Count == 0)
            return new Envelope(recipients, [], Everyone: job.OnlyTo is null);
        var send = new List<string>();
        var suppressed = new List<string>();
        var unsubscribed = false;
        for (var i = 0; i < recipients.Count; i++)
        {
            if (keys[i] is { } key && found.ContainsKey(key) || clientKeys?[i] is { } clientKey && found.ContainsKey(clientKey))
                suppressed.Add(recipients[i]);
            else if (listKeys?[i] is { } listKey && found.ContainsKey(listKey))
            {
                suppressed.Add(recipients[i]);
                unsubscribed = true;
            }
            else
                send.Add(recipients[i]);
        }
        telemetry.RecipientsSuppressed.Add(suppressed.Count);
        return new Envelope(send, suppressed, Everyone: false, Unsubscribed: unsubscribed);
    }

    /// <summary>Puts the hard bounces among refused recipients on the list; a store that does not answer costs the entry, logged.</summary>
    public async Task RecordBouncesAsync(EmailJob job, IEnumerable<RefusedRecipient> refused)
    {
        foreach (var recipient in refused)
        {
            if (!SuppressedAddress.IsHardBounce(Sending.SmtpFailure.CodeOf(recipient.Reply), recipient.Reply)
                || SuppressedAddress.Normalize(recipient.Address) is not { } address)
                continue;
            try
            {
                await suppressions.AddSuppressionAsync(
                    Suppression.Bounced(address, recipient.Reply, job.Client, clock.GetUtcNow(), job.IsTest), CancellationToken.None);
                logger.LogInformation("Suppressed {Address}: the relay refused it for good in job {JobId} ({Reply})", address, job.Id, recipient.Reply);
            }
            catch (Exception ex) when (StoreRegistration.IsStoreFailure(ex))
            {
                logger.LogWarning("Job store unavailable ({Reason}); {Address} bounced in job {JobId} but could not be suppressed",
                    ex.Message, address, job.Id);
            }
        }
    }
}

/// <summary>Who a job is sent to, and who was left out.</summary>
/// <param name="Send">the recipients to give the relay, as the job spells them.</param>
/// <param name="Suppressed">recipients left out: on the suppression list.</param>
/// <param name="Everyone">every recipient of the job: the relay can be given the message's own (no explicit envelope).</param>
/// <param name="Unsubscribed">someone was left out because they left the job's list (rather than bounced or were suppressed by hand).</param>
public sealed record Envelope(IReadOnlyList<string> Send, IReadOnlyList<string> Suppressed, bool Everyone, bool Unsubscribed = false);
