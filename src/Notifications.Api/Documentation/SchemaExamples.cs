using Notifications.Api.Status;
using System.Text.Json.Nodes;
using Microsoft.OpenApi;

namespace Notifications.Api.Documentation;

/// <summary>A description and an example for every schema of the document, by the name of the type it is generated from.</summary>
public static class SchemaExamples
{
    private static readonly Dictionary<string, (string Description, string Example)> Schemas = new(StringComparer.Ordinal)
    {
        ["SendEmailRequest"] = ("An email job: recipients, and either subject with text and/or html, or a template with its model.",
            """{"to":["Alice <alice@example.com>"],"subject":"Your receipt","text":"Thanks for your order.","html":"<p>Thanks for your order.</p>","metadata":{"orderId":"42"}}"""),
        ["SendEmailAccepted"] = ("The job is queued (or scheduled): its id, for the status and for webhooks.",
            """{"id":"01a21298-fbc4-74c7-a5b4-d257f36f3c31","status":"queued"}"""),
        ["EmailAttachment"] = ("A file sent with the mail, its content in base64; with a contentId it is an inline image the html refers to as cid:….",
            """{"filename":"invoice.pdf","contentType":"application/pdf","content":"JVBERi0xLjQK"}"""),
        ["BatchItemResult"] = ("One item of a batch: queued with its id, or refused with its status and why.",
            """{"id":"01a21298-fbc4-74c7-a5b4-d257f36f3c31","status":"queued"}"""),
        ["JobStatusResponse"] = ("A job's last known state.",
            """{"id":"01a21298-fbc4-74c7-a5b4-d257f36f3c31","status":"sent","at":"2026-12-02T09:00:01.250Z","attempt":1,"kind":null,"error":null,"recipients":null}"""),
        ["RecipientOutcomes"] = ("What became of individual recipients when not all of them were sent to.",
            """{"rejected":[{"address":"gone@example.com","reply":"550 5.1.1 no such user"}],"suppressed":["bounced@example.com"],"deferred":[]}"""),
        ["RefusedRecipient"] = ("A recipient the relay refused, with its reply; for one refused for now, the follow-up job that retries it.",
            """{"address":"gone@example.com","reply":"550 5.1.1 no such user"}"""),
        ["ProblemDetails"] = ("RFC 9457 problem details: what went wrong, in words a caller can act on.",
            """{"type":"https://tools.ietf.org/html/rfc9110#section-15.6.4","title":"Queue unavailable","status":503,"detail":"The broker cannot take jobs right now; nothing was queued. Try again later."}"""),
        ["HttpValidationProblemDetails"] = ("A 400: the fields that are not valid, each with what is wrong with it.",
            """{"title":"The email job is not valid","status":400,"errors":{"to[0]":["not an email address"]}}"""),
        ["SuppressionRequest"] = ("Why an address is suppressed by hand.", """{"reason":"asked to be removed by phone"}"""),
        ["SuppressionResponse"] = ("One suppressed address: why, by whom (bounce, manual, unsubscribe, complaint), for which client, since when, and its scope (deployment, client, list); asked for by address alone, entries lists every entry that applies, broadest first.",
            """{"address":"gone@example.com","reason":"bounced: 5.1.1 no such user","source":"bounce","client":"billing","at":"2026-12-01T17:04:12.000Z","scope":"deployment","entries":[{"scope":"deployment","reason":"bounced: 5.1.1 no such user","source":"bounce","client":"billing","at":"2026-12-01T17:04:12.000Z","list":null},{"scope":"list","reason":"unsubscribed","source":"unsubscribe","client":"billing","at":"2026-11-20T09:00:00.000Z","list":"digest"}]}"""),
        ["SuppressionEntry"] = ("One entry that keeps the caller's mail from an address: its scope (deployment, client, list), why, and since when.",
            """{"scope":"client","reason":"complained: abuse","source":"complaint","client":"billing","at":"2026-12-01T17:04:12.000Z","list":"*"}"""),
        ["SuppressionListResponse"] = ("A page of the suppression list; next is the cursor of the following page (absent on the last).",
            """{"items":[{"address":"gone@example.com","reason":"550 5.1.1 no such user","source":"bounce","client":"billing","at":"2026-12-01T17:04:12.000Z"}],"next":"Z29uZUBleGFtcGxlLmNvbQ"}"""),
        ["MessageListResponse"] = ("A page of the message log, newest first; next is the cursor of the following page (null on the last).",
            """{"items":[{"id":"01a21298-fbc4-74c7-a5b4-d257f36f3c31","client":"billing","from":"no-reply@example.com","to":["bob@example.com"],"cc":[],"bcc":[],"subject":"Your receipt","status":"sent","acceptedAt":"2026-12-02T09:00:00.120Z","lastEventAt":"2026-12-02T09:00:01.250Z","list":null,"metadata":{"orderId":"42"}}],"next":null}"""),
        ["MessageItem"] = ("A message as a search lists it: who sent it to whom, its subject, and where it stands.",
            """{"id":"01a21298-fbc4-74c7-a5b4-d257f36f3c31","client":"billing","from":"no-reply@example.com","to":["bob@example.com"],"cc":[],"bcc":[],"subject":"Your receipt","status":"sent","acceptedAt":"2026-12-02T09:00:00.120Z","lastEventAt":"2026-12-02T09:00:01.250Z","list":null,"metadata":{"orderId":"42"}}"""),
        ["MessageResponse"] = ("One message with every event about it, oldest first.",
            """{"id":"01a21298-fbc4-74c7-a5b4-d257f36f3c31","client":"billing","from":"no-reply@example.com","to":["bob@example.com"],"cc":[],"bcc":[],"subject":"Your receipt","status":"sent","acceptedAt":"2026-12-02T09:00:00.120Z","lastEventAt":"2026-12-02T09:00:01.250Z","list":null,"priority":null,"metadata":{"orderId":"42"},"sendAt":null,"size":1480,"signed":true,"via":"http","followUpOf":null,"contentKept":true,"events":[{"type":"accepted","at":"2026-12-02T09:00:00.120Z","via":"http"},{"type":"attempt","at":"2026-12-02T09:00:01.200Z","attempt":1,"relay":"smtp.example.net:587","tls":true,"durationMs":48.2,"recipients":[{"address":"bob@example.com","reply":"2.0.0 Ok: queued as 4XyZ"}]},{"type":"sent","at":"2026-12-02T09:00:01.250Z","attempt":1}]}"""),
        ["LoggedContent"] = ("What a message said as sent: its bodies and its headers in order.",
            """{"text":"Thanks for your order.","html":"<p>Thanks for your order.</p>","headers":[{"name":"Subject","value":"Your receipt"}]}"""),
        ["LoggedHeader"] = ("One header of a message as sent.", """{"name":"Subject","value":"Your receipt"}"""),
        ["ErasureRequest"] = ("The address to forget.", """{"address":"bob@example.com"}"""),
        ["ErasureResponse"] = ("What an erasure removed: messages of the log (whole, or their mention of the address), job statuses and dead letters.",
            """{"messages":3,"statuses":2,"deadLetters":0}"""),
        ["JsonObject"] = ("An event of a message: its type and time, and its details as named fields.", """{"type":"sent","at":"2026-12-02T09:00:01.250Z","attempt":1}"""),
        ["TemplateInfo"] = ("A template and the parts it has.", """{"name":"welcome","parts":["subject","html","text"]}"""),
        ["RenderedMail"] = ("A template rendered with a model: what a job would send.",
            """{"subject":"Welcome, Bob","html":"<p>Welcome to Acme, Bob.</p>","text":"Welcome to Acme, Bob."}"""),
        ["JsonElement"] = ("Any JSON value: a template's model is a JSON object.", """{"name":"Bob","trial_days":14}"""),
    };

    /// <summary>Gives every component schema we know by name its description and example, unless it has them.</summary>
    public static void Describe(OpenApiDocument document)
    {
        foreach (var (name, schema) in document.Components?.Schemas ?? new Dictionary<string, IOpenApiSchema>())
            if (schema is OpenApiSchema described && Schemas.TryGetValue(name, out var known))
            {
                described.Description ??= known.Description;
                if (described.Examples is not { Count: > 0 })
                    described.Examples = [JsonNode.Parse(known.Example)!];
            }
    }
}
