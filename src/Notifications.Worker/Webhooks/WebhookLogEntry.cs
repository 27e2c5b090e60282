using System.Text.Json;
using System.Text.Json.Nodes;
using Notifications.Core.MessageLog;
using RabbitMQ.Client.Events;

namespace Notifications.Worker.Webhooks;

/// <summary>
/// The message log's entry of one webhook delivery about a message: which callback, which try, the receiver's HTTP status
/// and how long it took. Written beside the delivery as best effort (the POST happened either way).
/// </summary>
public static class WebhookLogEntry
{
    /// <returns>null when the callback is about no message (a client paused, an unsubscribe) or its body names none.</returns>
    public static LogEntry? Of(BasicDeliverEventArgs delivery, PostResult posted, int attempt, string? client, DateTimeOffset now)
    {
        if (MessageIdOf(delivery.Body.Span) is not { } messageId)
            return null;
        var webhookId = delivery.BasicProperties.MessageId ?? "";
        return LogEntries.Of(messageId, client, LogEntryTypes.Webhook, now, $"webhook:{webhookId}:{attempt}", new JsonObject
        {
            ["event"] = delivery.BasicProperties.Type,
            ["webhookId"] = webhookId,
            ["attempt"] = attempt,
            ["httpStatus"] = posted.HttpStatus,
            ["durationMs"] = Math.Round(posted.DurationMs, 1),
            ["outcome"] = posted.Outcome switch
            {
                PostOutcome.Delivered => "delivered",
                PostOutcome.Gone => "gone",
                _ => "failed",
            },
            ["error"] = posted.Outcome == PostOutcome.Delivered ? null : posted.Error,
        });
    }

    /// <summary>The job a callback is about: <c>data.id</c> of an <c>email.*</c> event.</summary>
    private static string? MessageIdOf(ReadOnlySpan<byte> body)
    {
        try
        {
            var reader = new Utf8JsonReader(body);
            using var document = JsonDocument.ParseValue(ref reader);
            var root = document.RootElement;
            return root.ValueKind == JsonValueKind.Object
                && root.TryGetProperty("type", out var type) && type.GetString() is { } name && name.StartsWith("email.", StringComparison.Ordinal)
                && name != Core.Webhooks.WebhookEvent.Unsubscribed
                && root.TryGetProperty("data", out var data) && data.ValueKind == JsonValueKind.Object
                && data.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String
                    ? id.GetString()
                    : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
