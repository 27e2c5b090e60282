using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Mvc;
using Notifications.Core.Contract;
using Notifications.Core.Store;

namespace Notifications.Api.Pages.Console.DeadLetters;

/// <summary>
/// One dead letter: its facts, its failure history (the headers the worker and the broker wrote), the job's status now,
/// its text body, its HTML body in a sandboxed frame (never in the console's origin), and its headers and raw body.
/// </summary>
public sealed class LetterModel(IDeadLetterIndex index, IJobStatuses statuses) : ConsolePage
{
    public DeadLetterEntry Entry { get; private set; } = null!;
    public DeadLetterDetail Detail { get; private set; } = null!;
    public EmailJob? Job { get; private set; }
    public JobStatus? Status { get; private set; }
    public string RawBody { get; private set; } = "";

    public async Task<IActionResult> OnGetAsync(string id, CancellationToken cancellationToken)
    {
        if (await index.GetDeadLetterAsync(id, cancellationToken) is not { } letter)
            return NotFound();
        Entry = letter.Entry;
        Detail = letter.Detail;
        if (!Detail.BodyClipped && JobCodec.TryDecode(Encoding.UTF8.GetBytes(Detail.Body), out var job, out _))
            Job = job;
        Status = await statuses.GetStatusAsync(id, cancellationToken);
        // A job submitted by SMTP carries its message in base64: shown as the message's text after the job's fields.
        RawBody = Job?.Raw is { } raw
            ? Pretty(Encoding.UTF8.GetString(JobCodec.Encode(Job with { Raw = null }))) + "\n\nThe message as submitted by SMTP (" + raw.Length + " bytes):\n\n"
                + Encoding.UTF8.GetString(raw, 0, Math.Min(raw.Length, Notifications.Core.Store.DeadLetterDetail.MaxBody))
            : Pretty(Detail.Body);
        return Page();
    }

    public string? Header(string name) => Detail.Headers.GetValueOrDefault(name);

    private static readonly JsonSerializerOptions Readable = new()
    {
        WriteIndented = true,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private static string Pretty(string body)
    {
        try
        {
            using var json = JsonDocument.Parse(body);
            // As the mail says it: "<p>", not "\u003Cp\u003E" (the page encodes it for HTML; the JSON need not escape it again).
            var pretty = JsonSerializer.Serialize(json.RootElement, Readable);
            return pretty.Length <= 20_000 ? pretty : pretty[..20_000] + "\n… (shortened here)";
        }
        catch (JsonException)
        {
            return body.Length <= 20_000 ? body : body[..20_000] + "\n… (shortened here)";
        }
    }
}
