using Notifications.Core.DeadLetters;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Notifications.Core.Contract;
using RabbitMQ.Client;

namespace Notifications.Dlq.DeadLetters;

/// <summary>
/// One JSON object per line holding a dead letter's body (base64, byte for byte), properties and
/// headers, so a purge can be undone with <c>dlq replay --from FILE</c>.
/// </summary>
public static class ExportFormat
{
    public static string ToLine(DeadLetter letter)
    {
        var p = letter.Properties;
        var line = new JsonObject
        {
            ["id"] = letter.Id,
            ["kind"] = letter.Kind,
            ["lastError"] = letter.LastError,
            ["attempts"] = letter.Attempts,
            ["diedAt"] = letter.DiedAt?.ToString("O"),
            ["properties"] = new JsonObject
            {
                ["contentType"] = p.ContentType,
                ["type"] = p.Type,
                ["messageId"] = p.MessageId,
                ["correlationId"] = p.CorrelationId,
                ["timestamp"] = p.IsTimestampPresent() ? p.Timestamp.UnixTime : null,
            },
            ["headers"] = ToJson(letter.Headers),
            ["body"] = Convert.ToBase64String(letter.Body),
        };
        return line.ToJsonString();
    }

    /// <summary>Reads an export back; a line that is not one of ours names its number.</summary>
    public static DeadLetter FromLine(string line, int number)
    {
        try
        {
            var node = JsonNode.Parse(line) as JsonObject ?? throw new FormatException("not a JSON object");
            var p = node["properties"] as JsonObject ?? throw new FormatException("no properties");
            var properties = new BasicProperties
            {
                ContentType = (string?)p["contentType"] ?? JobMessage.ContentType,
                Type = (string?)p["type"] ?? JobMessage.Type,
                MessageId = (string?)p["messageId"] ?? throw new FormatException("no properties.messageId"),
                CorrelationId = (string?)p["correlationId"],
                DeliveryMode = DeliveryModes.Persistent,
                Headers = FromJson(node["headers"] as JsonObject),
            };
            if ((long?)p["timestamp"] is { } timestamp)
                properties.Timestamp = new AmqpTimestamp(timestamp);
            var body = Convert.FromBase64String((string?)node["body"] ?? throw new FormatException("no body"));
            return new DeadLetter(0, body, properties);
        }
        catch (Exception ex) when (ex is JsonException or FormatException or InvalidOperationException)
        {
            throw new DlqFailure($"line {number} is not a dlq export line: {ex.Message}", ex);
        }
    }

    private static JsonObject ToJson(IDictionary<string, object?>? headers)
    {
        var json = new JsonObject();
        if (headers is not null)
            foreach (var (name, value) in headers)
                json[name] = ToJson(value);
        return json;
    }

    private static JsonNode? ToJson(object? value) => value switch
    {
        null => null,
        byte[] bytes => JsonValue.Create(Encoding.UTF8.GetString(bytes)),
        string s => JsonValue.Create(s),
        bool b => JsonValue.Create(b),
        int or long or short or byte or uint or ushort or ulong or sbyte => JsonValue.Create(Convert.ToInt64(value)),
        float or double or decimal => JsonValue.Create(Convert.ToDouble(value)),
        AmqpTimestamp stamp => JsonValue.Create(stamp.UnixTime),
        IDictionary<string, object?> table => ToJson(table),
        IEnumerable<object?> list => new JsonArray(list.Select(ToJson).ToArray()),
        _ => JsonValue.Create(value.ToString()),
    };

    private static Dictionary<string, object?> FromJson(JsonObject? headers)
    {
        var result = new Dictionary<string, object?>();
        if (headers is null)
            return result;
        foreach (var (name, value) in headers)
        {
            if (JobHeaders.IsBrokerOwned(name) || value is not JsonValue scalar)
                continue; // the broker's own history is dropped on republish anyway
            result[name] = scalar.GetValueKind() switch
            {
                JsonValueKind.Number when scalar.TryGetValue<int>(out var i) => i,
                JsonValueKind.Number => scalar.GetValue<long>(),
                JsonValueKind.True or JsonValueKind.False => scalar.GetValue<bool>(),
                _ => scalar.ToString(),
            };
        }
        return result;
    }
}
