using System.Security.Cryptography;
using System.Text;
using Notifications.Contracts;
using Notifications.Core.Broker;
using Notifications.Core.Events;
using Notifications.Core.Store;
using Notifications.Core.Suppressions;
using Notifications.Core.Unsubscribing;
using Notifications.Core.Webhooks;

namespace Notifications.Api.Unsubscribing;

/// <summary>
/// Takes an address off one of a client's lists: the client's webhook <c>email.unsubscribed</c> and the event
/// <c>EmailUnsubscribed</c>, confirmed, then the suppression entry (reason <c>unsubscribed</c>). In that order, so nothing is
/// half done: a failure before the entry is stored answers 503 and a repeat does it all again (the webhook at least once);
/// a repeat after it changes nothing.
/// </summary>
public sealed partial class ListUnsubscriber(
    ISuppressions suppressions,
    WebhookOutbox webhooks,
    Core.Clients.ClientRegistry clients,
    IOutcomeEvents events,
    Core.MessageLog.IMessageLog messageLog,
    Core.MessageLog.MessageLogPublisher logEntries,
    TimeProvider clock,
    ILogger<ListUnsubscriber> logger)
{
    public enum Outcome
    {
        Unsubscribed,
        AlreadyOff,
        TryLater,
    }

    public async Task<Outcome> UnsubscribeAsync(ListMembership member, CancellationToken cancellationToken)
    {
        var entry = new Suppression(member.Address, Suppression.Unsubscribed, Suppression.Unsubscribe, member.Client, clock.GetUtcNow(), member.List);
        try
        {
            if (await suppressions.GetSuppressionAsync(entry.Key, cancellationToken) is not null)
                return Outcome.AlreadyOff;
            await webhooks.EnqueueAsync(new WebhookEvent(WebhookEvent.Unsubscribed, entry.At,
                new WebhookData(IdOf(entry), member.Client, Suppression.Unsubscribed, null, null, [member.Address], null, List: member.List)),
                CancellationToken.None);
            await events.PublishAsync(new EmailUnsubscribed(member.Address, member.List, entry.At, member.Client, clients.TestFlag(member.Client)), CancellationToken.None);
            await suppressions.AddSuppressionAsync(entry, CancellationToken.None);
        }
        catch (Exception ex) when (ex is PublishFailedException || StoreRegistration.IsStoreFailure(ex))
        {
            LogNotDone(member.Client, member.List, ex.GetBaseException().Message);
            return Outcome.TryLater;
        }
        LogDone(member.Client, member.List);
        await LogOnLatestMessageAsync(member, entry.At);
        return Outcome.Unsubscribed;
    }

    /// <summary>
    /// The message log's <c>unsubscribed</c>, on the newest message of that list the address got (the link carries no
    /// message id: the one it most likely came from). Best effort: the unsubscribe is done either way.
    /// </summary>
    private async Task LogOnLatestMessageAsync(ListMembership member, DateTimeOffset at)
    {
        try
        {
            var page = await messageLog.SearchAsync(new Core.MessageLog.MessageQuery(1)
            {
                Client = member.Client,
                Recipient = Core.MessageLog.LogAddresses.Normalize(member.Address),
                List = member.List,
            }, CancellationToken.None);
            if (page.Items is [var message])
                await logEntries.TryPublishAsync([Core.MessageLog.LogEntries.Of(message.Id, member.Client, Core.MessageLog.LogEntryTypes.Unsubscribed, at,
                    "unsubscribed:" + member.List, new System.Text.Json.Nodes.JsonObject { ["list"] = member.List, ["by"] = "the recipient's one-click link" })],
                    CancellationToken.None);
        }
        catch (Exception ex) when (Core.MessageLog.MessageLogRegistration.IsStoreFailure(ex))
        {
            logger.LogWarning("An unsubscribe was done but not written to the message log: {Reason}", ex.GetBaseException().Message);
        }
    }

    /// <summary>The same id for the same address leaving the same list: receivers deduplicate a repeated callback by it.</summary>
    private static string IdOf(Suppression entry) =>
        "unsub-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(entry.Key)))[..24];

    // The address is not logged: the log is read by more people than the list's owner.
    [LoggerMessage(Level = LogLevel.Information, Message = "An address left list {List} of client {Client} by its unsubscribe link")]
    private partial void LogDone(string? client, string list);

    [LoggerMessage(Level = LogLevel.Warning, Message = "An unsubscribe from list {List} of client {Client} could not be done now ({Reason}); answered 503")]
    private partial void LogNotDone(string? client, string list, string reason);
}
