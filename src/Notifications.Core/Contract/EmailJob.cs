namespace Notifications.Core.Contract;

/// <summary>
/// The job as it travels through the broker (docs/http-api.md): the caller's mail with the
/// id, time and sender the API gave it. What must be there is <c>required</c>, so a body without it
/// does not decode and goes to the DLQ as poison.
/// </summary>
public sealed record EmailJob : IEmailFields
{
    public required string Id { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>The client that sent it (<c>Clients:&lt;name&gt;</c>); null when the API takes anonymous callers.</summary>
    public string? Client { get; init; }
    public IReadOnlyList<string> To { get; init; } = [];
    public IReadOnlyList<string> Cc { get; init; } = [];
    public IReadOnlyList<string> Bcc { get; init; } = [];

    /// <summary>The caller's sender, or the default one the API filled in.</summary>
    public required string From { get; init; }

    public string? ReplyTo { get; init; }
    public required string Subject { get; init; }
    public string? Text { get; init; }
    public string? Html { get; init; }
    public IReadOnlyDictionary<string, string>? Headers { get; init; }
    public IReadOnlyDictionary<string, string>? Metadata { get; init; }

    /// <summary>
    /// Set only on a follow-up job the worker made: the recipients (some of To, Cc, Bcc) this job still has to reach,
    /// because the relay refused them for now when the rest got it. The mail keeps its headers as the caller wrote them.
    /// </summary>
    public IReadOnlyList<string>? OnlyTo { get; init; }

    /// <summary>When a scheduled job was due to be sent (it waited in the broker's delay levels until then).</summary>
    public DateTimeOffset? SendAt { get; init; }

    /// <summary>Files sent with the mail, content in base64.</summary>
    public IReadOnlyList<EmailAttachment>? Attachments { get; init; }

    /// <summary>
    /// A message submitted by SMTP, as the application wrote it (base64 on the wire): the worker sends these bytes, adding
    /// only what the service adds (return path, <c>List-*</c>, DKIM). Then <see cref="To"/> holds the envelope's recipients
    /// the headers show and <see cref="Bcc"/> the others, <see cref="Subject"/> the decoded Subject header, and there is no
    /// text, html, headers or attachments: the content is this message.
    /// </summary>
    public byte[]? Raw { get; init; }

    /// <summary>
    /// True for a test client's job (<c>Clients:&lt;name&gt;:Mode=Test</c>), set when it is accepted: the worker answers
    /// for the relay, whatever the client's mode is by the time it is sent. Absent for live mail.
    /// </summary>
    public bool? Test { get; init; }

    /// <summary>Whether it is test traffic (never sent to a relay).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool IsTest => Test == true;

    IReadOnlyList<EmailAttachment?>? IEmailFields.Attachments => Attachments;

    /// <summary>"high" for the high lane; absent (or "normal") for the normal one.</summary>
    public string? Priority { get; init; }

    /// <summary>The client's list it belongs to: it carries List-Id and a one-click unsubscribe link, and is held back from whoever left the list.</summary>
    public string? List { get; init; }

    public Topology.Lane Lane => Topology.Lanes.FromWire(Priority);

    public IEnumerable<string> AllRecipients() => To.Concat(Cc).Concat(Bcc);

    /// <summary>Who the relay is asked to deliver to: every recipient, or those of <see cref="OnlyTo"/> on a follow-up job.</summary>
    public IEnumerable<string> EnvelopeRecipients() => OnlyTo ?? AllRecipients();

    /// <summary>Recipients the mail shows (to and cc): what events may carry; Bcc stays between the caller and the relay.</summary>
    public IEnumerable<string> VisibleRecipients() => To.Concat(Cc);

    IReadOnlyList<string?>? IEmailFields.To => To;
    IReadOnlyList<string?>? IEmailFields.Cc => Cc;
    IReadOnlyList<string?>? IEmailFields.Bcc => Bcc;
    IReadOnlyDictionary<string, string?>? IEmailFields.Headers => Headers?.AsNullableValues();
    IReadOnlyDictionary<string, string?>? IEmailFields.Metadata => Metadata?.AsNullableValues();
}
