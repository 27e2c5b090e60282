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

    public static string OneLine(string text)
    {
        var line = text.ReplaceLineEndings(" ");
        return line.Length <= 500 ? line : line[..500] + "…";
    }
}
