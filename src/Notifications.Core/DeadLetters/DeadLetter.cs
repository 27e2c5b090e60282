using System.Text;
using System.Text.Json;
using Notifications.Core.Broker;
using Notifications.Core.Contract;
using Notifications.Core.Topology;
using RabbitMQ.Client;

namespace Notifications.Core.DeadLetters;

/// <summary>One message in the DLQ as an operator reads it, with what is needed to put it back.</summary>
public sealed record DeadLetter(
    ulong DeliveryTag,
    byte[] Body,
    IReadOnlyBasicProperties Properties)
{
    /// <summary>The channel of the DLQ this letter was read through; null for a letter from elsewhere (an export, the worker).</summary>
    internal DeadLetterQueue.Segment? Source { get; init; }

    public string Id => Properties.MessageId ?? "(no id)";

    public IDictionary<string, object?>? Headers => Properties.Headers;

    /// <summary>The worker's header; for a message the broker dead-lettered itself, its reason in <c>x-death</c>.</summary>
    public string Kind => HeaderValues.GetString(Headers, JobHeaders.FailureKind) ?? (IsInbound ? "inbound" : null) ?? DeathReason() switch
    {
        "delivery_limit" => FailureKind.DeliveryLimit.ToWire(),
        "rejected" => FailureKind.Poison.ToWire(),
        { } other => other,
        null => "unknown",
    };

    public string LastError => HeaderValues.GetString(Headers, JobHeaders.LastError)
        ?? HeaderValues.GetString(Headers, Core.Bounces.InboundHeaders.Reason) ?? DeathReason() switch
    {
        "delivery_limit" => "delivery limit reached: the worker died holding it too often",
        "rejected" => "rejected by a consumer",
        { } other => $"dead-lettered by the broker ({other})",
        null => "",
    };

    public int Attempts => HeaderValues.GetInt(Headers, JobHeaders.Attempts,
        HeaderValues.GetInt(Headers, JobHeaders.DeliveryCount, 0));

    public int Replays => HeaderValues.GetInt(Headers, JobHeaders.Replays, 0);

    /// <summary>The lane it came from (<c>x-priority</c>), and goes back to when replayed.</summary>
    public Lane Lane => Lanes.FromWire(HeaderValues.GetString(Headers, JobHeaders.Priority));

    /// <summary>The client whose job it is (<c>x-client</c>), when the API knows clients.</summary>
    public string? Client => HeaderValues.GetString(Headers, JobHeaders.Client);

    public DateTimeOffset? DiedAt
    {
        get
        {
            if (DateTimeOffset.TryParse(HeaderValues.GetString(Headers, JobHeaders.LastFailedAt), out var at))
                return at;
            if (FirstDeath() is { } death && death.TryGetValue("time", out var time) && time is AmqpTimestamp stamp)
                return DateTimeOffset.FromUnixTimeSeconds(stamp.UnixTime);
            return Properties.IsTimestampPresent() ? DateTimeOffset.FromUnixTimeSeconds(Properties.Timestamp.UnixTime) : null;
        }
    }

    public EmailJob? Job => JobCodec.TryDecode(Body, out var job, out _) ? job : null;

    /// <summary>A message that came back to the return-path domain (<c>email.inbound.unparsed</c>): raw mail, not a job.</summary>
    public bool IsInbound => Properties.Type == Core.Bounces.InboundHeaders.Type;

    /// <summary>A job's recipients; a callback's (<c>webhook.dead</c>) from its data; an inbound message's RCPT TO.</summary>
    public string Recipients => IsInbound ? HeaderValues.GetString(Headers, Core.Bounces.InboundHeaders.Recipients) ?? ""
        : Job is { } job ? string.Join(", ", job.AllRecipients())
        : Callback() is { } callback && callback.Data.TryGetProperty("recipients", out var recipients) && recipients.ValueKind == JsonValueKind.Array
            ? string.Join(", ", recipients.EnumerateArray().Where(r => r.ValueKind == JsonValueKind.String).Select(r => r.GetString()))
            : "";

    /// <summary>A job's subject; for a callback, what it tells (<c>email.sent callback of job …</c>): callbacks carry no subject.</summary>
    public string Subject => (IsInbound ? InboundSubject() : Job?.Subject)
        ?? (Callback() is { } callback ? $"{callback.Type} callback of job {(callback.Data.TryGetProperty("id", out var id) ? id.GetString() : "?")}" : "");

    private (string Type, JsonElement Data)? Callback()
    {
        try
        {
            using var json = JsonDocument.Parse(Body);
            return json.RootElement is { ValueKind: JsonValueKind.Object } root
                && root.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String
                && root.TryGetProperty("data", out var data) && data.ValueKind == JsonValueKind.Object
                ? (type.GetString()!, data.Clone())
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public string BodyText => Encoding.UTF8.GetString(Body);

    /// <summary>The Subject header of raw mail, read without parsing the rest.</summary>
    private string? InboundSubject()
    {
        try
        {
            using var stream = new MemoryStream(Body, writable: false);
            return MimeKit.HeaderList.Load(stream)["Subject"];
        }
        catch (Exception ex) when (ex is FormatException or MimeKit.ParseException)
        {
            return null;
        }
    }

    private string? DeathReason() =>
        HeaderValues.GetString(Headers, JobHeaders.LastDeathReason)
        ?? HeaderValues.GetString(Headers, JobHeaders.FirstDeathReason)
        ?? (FirstDeath() is { } death && death.TryGetValue("reason", out var reason) ? HeaderValues.AsString(reason) : null);

    private IDictionary<string, object?>? FirstDeath() =>
        Headers is not null && Headers.TryGetValue(JobHeaders.Death, out var deaths) && deaths is IList<object?> { Count: > 0 } list
            ? list[0] as IDictionary<string, object?>
            : null;
}
