using Notifications.Core.Contract;
using Notifications.Core.Topology;

namespace Notifications.Api.Sending;

/// <summary>
/// The body of <c>POST /api/send-email</c> as the caller sent it: anything may be missing, so every member
/// is nullable; the validator says what is wrong, and only a valid request becomes an <see cref="EmailJob"/>.
/// </summary>
public sealed record SendEmailRequest : IEmailFields
{
    public IReadOnlyList<string?>? To { get; init; }
    public IReadOnlyList<string?>? Cc { get; init; }
    public IReadOnlyList<string?>? Bcc { get; init; }
    public string? From { get; init; }
    public string? ReplyTo { get; init; }
    public string? Subject { get; init; }
    public string? Text { get; init; }
    public string? Html { get; init; }
    public IReadOnlyDictionary<string, string?>? Headers { get; init; }
    public IReadOnlyDictionary<string, string?>? Metadata { get; init; }
    public string? Priority { get; init; }

    /// <summary>The client's mailing list (<c>[a-z0-9][a-z0-9-]{0,63}</c>): one <c>to</c>, no cc or bcc; the mail gets a one-click unsubscribe link.</summary>
    public string? List { get; init; }

    public IReadOnlyList<EmailAttachment?>? Attachments { get; init; }

    /// <summary>When to send it: ISO 8601 with an offset, in the future, at most Email:MaxSchedule ahead.</summary>
    public string? SendAt { get; init; }

    /// <summary>A template of <c>Templates:Path</c> to render instead of giving subject, text and html.</summary>
    public string? Template { get; init; }

    /// <summary>The template's variables (a JSON object).</summary>
    public System.Text.Json.JsonElement? Model { get; init; }

    /// <summary>The job for a request the validator found valid.</summary>
    public EmailJob ToJob(string id, DateTimeOffset createdAt, string defaultFrom, string? client) => new()
    {
        Id = id,
        CreatedAt = createdAt,
        Client = client,
        To = NonNull(To),
        Cc = NonNull(Cc),
        Bcc = NonNull(Bcc),
        From = From ?? defaultFrom,
        ReplyTo = ReplyTo,
        Subject = Subject!,
        Text = Text,
        Html = Html,
        Headers = NonNull(Headers),
        Metadata = NonNull(Metadata),
        // Only the high lane is spelled on the wire: a normal job looks as it did before there were lanes.
        Priority = Lanes.FromWire(Priority) == Lane.High ? Lanes.HighWire : null,
        Attachments = Attachments is { Count: > 0 } files ? [.. files.OfType<EmailAttachment>()] : null,
        List = List,
    };

    private static string[] NonNull(IReadOnlyList<string?>? values) => values is null ? [] : [.. values.OfType<string>()];

    private static Dictionary<string, string>? NonNull(IReadOnlyDictionary<string, string?>? values) =>
        values?.Where(e => e.Value is not null).ToDictionary(e => e.Key, e => e.Value!, StringComparer.Ordinal);
}
