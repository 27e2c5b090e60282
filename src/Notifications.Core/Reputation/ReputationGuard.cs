using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Notifications.Core.Clients;
using Notifications.Core.Store;
using Notifications.Core.Telemetry;
using Notifications.Core.Webhooks;

namespace Notifications.Core.Reputation;

/// <summary>
/// Counts each client's recipients, hard bounces and complaints, and pauses a client whose rates over its last
/// <c>Reputation:Window</c> recipients pass the limits: the API then answers its sends <c>403 sending-paused</c> until an
/// operator resumes it. The one who pauses it (the store says who was first) tells the client's webhook.
/// </summary>
public sealed partial class ReputationGuard(
    IReputation store,
    IOptions<ReputationOptions> options,
    IOptions<ClientsOptions> clients,
    WebhookOutbox webhooks,
    NotificationsTelemetry telemetry,
    MessageLog.MessageLogPublisher messageLog,
    TimeProvider clock,
    ILogger<ReputationGuard> logger)
{
    public ReputationOptions SettingsFor(string client) => options.Value.For(clients.Value.ByName.GetValueOrDefault(client));

    /// <summary>Counts recipients and reports of a client's job, and pauses the client if that takes it over a limit.</summary>
    /// <param name="client">null (an anonymous caller's job): nothing is counted.</param>
    /// <param name="jobId">the job counted: when this pauses the client, its message log says so.</param>
    /// <exception cref="Exception">a store failure (<see cref="StoreRegistration.IsStoreFailure"/>): the caller decides whether that matters.</exception>
    public async Task RecordAsync(string? client, int sent, IReadOnlyCollection<ReputationEvent> events, CancellationToken cancellationToken,
        string? jobId = null)
    {
        if (client is null || sent == 0 && events.Count == 0)
            return;
        var settings = SettingsFor(client);
        var state = await store.RecordReputationAsync(client, sent, events, settings.Window, cancellationToken);
        if (!settings.Enabled || state.Paused || Breach(state, settings) is not { } breach)
            return;
        if (!await store.PauseClientAsync(client, breach.Reason, clock.GetUtcNow(), cancellationToken))
            return; // another instance paused it a moment ago, and told
        telemetry.ClientsPaused.Add(1, new("client", client), new("rate", breach.Rate));
        LogPaused(client, breach.Reason);
        if (jobId is not null)
            await messageLog.TryPublishAsync([MessageLog.LogEntries.Of(jobId, client, MessageLog.LogEntryTypes.Paused, clock.GetUtcNow(), "paused",
                new System.Text.Json.Nodes.JsonObject { ["client"] = client, ["rate"] = breach.Rate, ["reason"] = breach.Reason })], CancellationToken.None);
        try
        {
            await webhooks.EnqueueAsync(new WebhookEvent(WebhookEvent.ClientPaused, clock.GetUtcNow(),
                new WebhookData(client, client, "paused", null, breach.Reason, [], null, Kind: breach.Rate)), cancellationToken);
        }
        catch (Exception ex)
        {
            logger.LogError("Client {Client} is paused, but its client.paused webhook was not published ({Reason})", client, ex.GetBaseException().Message);
        }
    }

    /// <summary>Which limit a state is over, in words an operator and the client read; null when none (or too few sent to judge).</summary>
    public static (string Rate, string Reason)? Breach(ReputationState state, ReputationOptions settings)
    {
        if (state.Sent < settings.MinSent)
            return null;
        if (state.BounceRate > settings.MaxBounceRate)
            return ("bounce", string.Create(CultureInfo.InvariantCulture,
                $"hard-bounce rate {state.BounceRate:P1} ({state.Bounces} of its last {state.Judged} recipients) is above Reputation:MaxBounceRate {settings.MaxBounceRate:P1}"));
        if (state.ComplaintRate > settings.MaxComplaintRate)
            return ("complaint", string.Create(CultureInfo.InvariantCulture,
                $"complaint rate {state.ComplaintRate:P2} ({state.Complaints} of its last {state.Judged} recipients) is above Reputation:MaxComplaintRate {settings.MaxComplaintRate:P2}"));
        return null;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Client {Client} paused by the reputation guard: {Reason}; `dlq clients resume {Client}` resumes it")]
    private partial void LogPaused(string client, string reason);
}
