using Notifications.Core.DeadLetters;
using System.Buffers;
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
        var buffer = new ArrayBufferWriter<byte>(4_096);
        using (var json = new Utf8JsonWriter(buffer))
            Write(json, letter);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>
    /// Writes a letter's line (without its newline) through <paramref name="json"/>, straight as UTF-8: an export of 100,000
    /// built each as a tree of JSON nodes and then a string allocated 12 KB a letter.
    /// </summary>
    public static void Write(Utf8JsonWriter json, DeadLetter letter)
    {
        var p = letter.Properties;
        json.WriteStartObject();
        json.WriteString("id", letter.Id);
        json.WriteString("kind", letter.Kind);
        json.WriteString("lastError", letter.LastError);
        json.WriteNumber("attempts", letter.Attempts);
        if (letter.DiedAt is { } diedAt)
            json.WriteString("diedAt", diedAt.ToString("O"));
        else
            json.WriteNull("diedAt");
        json.WriteStartObject("properties");
        json.WriteString("contentType", p.ContentType);
        json.WriteString("type", p.Type);
        json.WriteString("messageId", p.MessageId);
        json.WriteString("correlationId", p.CorrelationId);
        if (p.IsTimestampPresent())
            json.WriteNumber("timestamp", p.Timestamp.UnixTime);
        else
            json.WriteNull("timestamp");
        json.WriteEndObject();
        json.WritePropertyName("headers");
        WriteTable(json, letter.Headers);
        json.WriteBase64String("body", letter.Body);
        json.WriteEndObject();
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

    private static void WriteTable(Utf8JsonWriter json, IDictionary<string, object?>? headers)
    {
        json.WriteStartObject();
        if (headers is not null)
            foreach (var (name, value) in headers)
            {
                json.WritePropertyName(name);
                WriteValue(json, value);
            }
        json.WriteEndObject();
    }

    private static void WriteValue(Utf8JsonWriter json, object? value)
    {
        switch (value)
        {
            case null:
                json.WriteNullValue();
                break;
            case byte[] bytes:
                json.WriteStringValue(Encoding.UTF8.GetString(bytes));
                break;
            case string text:
                json.WriteStringValue(text);
                break;
            case bool flag:
                json.WriteBooleanValue(flag);
                break;
            case int or long or short or byte or uint or ushort or ulong or sbyte:
                json.WriteNumberValue(Convert.ToInt64(value));
                break;
            case float or double or decimal:
                json.WriteNumberValue(Convert.ToDouble(value));
                break;
            case AmqpTimestamp stamp:
                json.WriteNumberValue(stamp.UnixTime);
                break;
            case IDictionary<string, object?> table:
                WriteTable(json, table);
                break;
            case IEnumerable<object?> list:
                json.WriteStartArray();
                foreach (var item in list)
                    WriteValue(json, item);
                json.WriteEndArray();
                break;
            default:
                json.WriteStringValue(value.ToString());
                break;
        }
    }

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
                JsonValueKind.Number when scalar.TryGetValue<long>(out var l) => l,
                JsonValueKind.Number => scalar.GetValue<double>(), // a float header: reading it as a long failed the whole file
                JsonValueKind.True or JsonValueKind.False => scalar.GetValue<bool>(),
                _ => scalar.ToString(),
            };
        }
        return result;
    }
}
