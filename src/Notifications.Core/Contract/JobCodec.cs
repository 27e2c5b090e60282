using System.Text.Json;

namespace Notifications.Core.Contract;

/// <summary>Turns a job into the message body and back.</summary>
public static class JobCodec
{
    public static byte[] Encode(EmailJob job) =>
        JsonSerializer.SerializeToUtf8Bytes(job, JobJsonContext.Default.EmailJob);

    /// <summary>Reads a body; <paramref name="error"/> says in one line why it is not a job.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> body, out EmailJob? job, out string? error)
    {
        try
        {
            job = JsonSerializer.Deserialize(body, JobJsonContext.Default.EmailJob);
            error = job is null ? "body is JSON null, not a job" : null;
            return job is not null;
        }
        catch (JsonException ex)
        {
            job = null;
            error = "body is not a valid job: " + OneLine(ex.Message);
            return false;
        }
    }

    /// <summary>
    /// What can still be read from a body that is not a valid job (poison): its <c>to</c> and <c>cc</c> strings and its
    /// string <c>metadata</c>, for the client's <c>email.dead</c> callback; null when it is not even a JSON object.
    /// </summary>
    public static EmailJob? TryDecodeLoosely(ReadOnlySpan<byte> body, string jobId)
    {
        try
        {
            if (System.Text.Json.Nodes.JsonNode.Parse(body.ToArray()) is not System.Text.Json.Nodes.JsonObject json)
                return null;
            return new EmailJob
            {
                Id = jobId,
                CreatedAt = default,
                From = "",
                Subject = "",
                To = Strings(json["to"]),
                Cc = Strings(json["cc"]),
                Metadata = json["metadata"] is System.Text.Json.Nodes.JsonObject metadata
                    ? metadata.Where(p => p.Value is System.Text.Json.Nodes.JsonValue v && v.TryGetValue<string>(out _))
                        .ToDictionary(p => p.Key, p => p.Value!.GetValue<string>())
                    : null,
            };
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or ArgumentException)
        {
            return null;
        }

        static List<string> Strings(System.Text.Json.Nodes.JsonNode? node) => node is System.Text.Json.Nodes.JsonArray array
            ? [.. array.OfType<System.Text.Json.Nodes.JsonValue>().Select(v => v.TryGetValue<string>(out var text) ? text : null).OfType<string>()]
            : [];
    }

    public static string OneLine(string text)
    {
        var line = text.ReplaceLineEndings(" ");
        return line.Length <= 500 ? line : line[..500] + "…";
    }
}
