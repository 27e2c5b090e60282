using System.Text;
using System.Text.Json;
using Notifications.Core.Contract;
using Notifications.Core.DeadLetters;
using Notifications.Dlq.DeadLetters;
using RabbitMQ.Client;

namespace Notifications.Tests.Unit;

/// <summary>The <c>dlq export</c> line: every kind of header value the broker hands over, and back.</summary>
public sealed class ExportFormatTests
{
    [Fact]
    public void A_line_holds_every_header_kind_escapes_what_json_must_and_reads_back_to_the_same_message()
    {
        var body = Encoding.UTF8.GetBytes("""{"id":"job-1","subject":"Ünïcødé <b>&</b> + / \u2028"}""");
        var properties = new BasicProperties
        {
            MessageId = "job-1", ContentType = JobMessage.ContentType, Type = JobMessage.Type, CorrelationId = "corr",
            Timestamp = new AmqpTimestamp(1_700_000_000),
            Headers = new Dictionary<string, object?>
            {
                [JobHeaders.FailureKind] = Encoding.UTF8.GetBytes("transient"), // the broker hands strings over as bytes
                [JobHeaders.Attempts] = 4,
                [JobHeaders.LastError] = "SMTP 451 <4.3.0> \"try\" again & later é",
                ["x-long"] = 1_234_567_890_123L,
                ["x-bool"] = true,
                ["x-double"] = 1.5,
                ["x-null"] = null,
                ["x-stamp"] = new AmqpTimestamp(1_700_000_123),
                ["x-table"] = new Dictionary<string, object?> { ["a"] = 1, ["c"] = new List<object?> { 1, "x", true } },
                ["x-list"] = new List<object?> { "one", 2 },
            },
        };

        var line = ExportFormat.ToLine(new DeadLetter(1, body, properties));

        Assert.DoesNotContain('\n', line);
        Assert.DoesNotContain("<", line); // escaped as \u003C: a line pasted into HTML or a log stays inert
        using var json = JsonDocument.Parse(line);
        var root = json.RootElement;
        Assert.Equal(("job-1", "transient", 4), (root.GetProperty("id").GetString(), root.GetProperty("kind").GetString(), root.GetProperty("attempts").GetInt32()));
        var headers = root.GetProperty("headers");
        Assert.Equal("transient", headers.GetProperty(JobHeaders.FailureKind).GetString());
        Assert.Equal(1_234_567_890_123L, headers.GetProperty("x-long").GetInt64());
        Assert.Equal(1.5, headers.GetProperty("x-double").GetDouble());
        Assert.Equal(JsonValueKind.Null, headers.GetProperty("x-null").ValueKind);
        Assert.Equal(1_700_000_123, headers.GetProperty("x-stamp").GetInt64());
        Assert.Equal("""{"a":1,"c":[1,"x",true]}""", headers.GetProperty("x-table").GetRawText());
        Assert.Equal("""["one",2]""", headers.GetProperty("x-list").GetRawText());
        Assert.Equal(1_700_000_000, root.GetProperty("properties").GetProperty("timestamp").GetInt64());

        var back = ExportFormat.FromLine(line, 1);
        Assert.Equal(body, back.Body);
        Assert.Equal(("job-1", "corr", 1_700_000_000L), (back.Properties.MessageId, back.Properties.CorrelationId, back.Properties.Timestamp.UnixTime));
        Assert.Equal(("transient", 4, "SMTP 451 <4.3.0> \"try\" again & later é"), (back.Kind, back.Attempts, back.LastError));
        Assert.Equal((1_234_567_890_123L, true, 1.5), ((long)back.Headers!["x-long"]!, (bool)back.Headers["x-bool"]!, (double)back.Headers["x-double"]!));
    }
}
