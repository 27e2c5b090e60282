using System.Buffers;
using System.Collections.Concurrent;
using MimeKit;
using Notifications.SmtpSink;
using SmtpServer;
using SmtpServer.Protocol;
using SmtpServer.Storage;

namespace Notifications.Tests.Infrastructure;

/// <summary>
/// A real SMTP server in the test process (the SmtpServer package) whose answer to each mail the test
/// scripts. Its listener sets TCP_NODELAY: the package's default stalls ~40 ms per mail.
/// </summary>
public sealed class TestRelay : IAsyncDisposable
{
    private readonly SinkServer _server;
    private readonly ConcurrentQueue<SmtpResponse> _script = new();
    private readonly ConcurrentQueue<ReceivedMail> _accepted = new();
    private readonly ConcurrentQueue<DateTimeOffset> _attempts = new();

    /// <param name="certificate">serve TLS with it: from the first byte when <paramref name="tlsOnConnect"/>, else as STARTTLS.</param>
    /// <param name="tlsOnConnect">SMTPS rather than STARTTLS.</param>
    public TestRelay(System.Security.Cryptography.X509Certificates.X509Certificate2? certificate = null, bool tlsOnConnect = false) =>
        _server = new SinkServer(new ScriptedStore(this), "test-relay", new RecipientFilter(this), certificate, tlsOnConnect);

    public int Port => _server.Port;

    /// <summary>Connections it has had: a test relay that must stay untouched checks that this is 0.</summary>
    public int Connections => _server.Sessions;

    /// <summary>How long the relay takes over each mail before it answers (a remote provider, a slow relay).</summary>
    public TimeSpan Delay { get; set; } = TimeSpan.Zero;

    /// <summary>While set, the answer to every RCPT TO (e.g. 421, after which the relay closes the session).</summary>
    public SmtpResponse? RecipientFault { get; set; }

    /// <summary>While set, asked for each RCPT TO address: the answer to it, or null to accept it (per-recipient scripts).</summary>
    public Func<string, SmtpResponse?>? RecipientRule { get; set; }

    /// <summary>Every address given at RCPT TO, accepted or not, in order.</summary>
    public IReadOnlyList<string> RecipientsAsked => [.. _asked];

    private readonly ConcurrentQueue<string> _asked = new();

    /// <summary>While set, the answer to every mail after DATA, instead of 250.</summary>
    public SmtpResponse? DataFault { get; set; }

    /// <summary>While set, asked for each mail after DATA: an answer instead of 250, or null for 250.</summary>
    public Func<SmtpResponse?>? DataRule { get; set; }

    /// <summary>SES's answer above its sending rate.</summary>
    public static SmtpResponse Throttling() => new((SmtpReplyCode)454, "4.7.0 Throttling failure: Maximum sending rate exceeded.");

    /// <summary>Every DATA the relay saw, accepted or not, with when it came.</summary>
    public IReadOnlyList<DateTimeOffset> Attempts => [.. _attempts];

    /// <summary>Mails the relay answered 250.</summary>
    public IReadOnlyList<ReceivedMail> Accepted => [.. _accepted];

    /// <summary>Answers for the next mails, in order; once used up, every mail gets 250.</summary>
    public void Script(params SmtpResponse[] answers)
    {
        foreach (var answer in answers)
            _script.Enqueue(answer);
    }

    // 451 (local error), a refusal of this mail; 421 would mean the relay itself is going away and feed the circuit breaker.
    public static SmtpResponse Transient(string text = "4.3.0 try again later") => new((SmtpReplyCode)451, text);

    /// <summary>The relay going away: 421 closes the session.</summary>
    public static SmtpResponse ServiceNotAvailable(string text = "4.3.2 service not available") => new((SmtpReplyCode)421, text);

    public static SmtpResponse Permanent(string text = "5.1.1 mailbox unavailable") => new(SmtpReplyCode.MailboxUnavailable, text);

    public ValueTask DisposeAsync() => _server.DisposeAsync();

    /// <summary>Job ids of the accepted mails (from their Message-Id), one entry per mail.</summary>
    public IReadOnlyList<string> AcceptedJobIds => Accepted.Select(m => (m.Message.MessageId ?? "").Split('@')[0]).ToList();

    /// <param name="Envelope">the addresses the relay accepted at RCPT TO for this mail: who really gets it.</param>
    /// <param name="Raw">the bytes the relay received after DATA, as a verifier downstream reads them.</param>
    /// <param name="Sender">the envelope sender (MAIL FROM): where bounces go.</param>
    public sealed record ReceivedMail(DateTimeOffset At, MimeMessage Message, IReadOnlyList<string> Envelope, byte[] Raw, string Sender);

    private sealed class RecipientFilter(TestRelay relay) : MailboxFilter
    {
        public override Task<bool> CanDeliverToAsync(ISessionContext context, SmtpServer.Mail.IMailbox to, SmtpServer.Mail.IMailbox from,
            CancellationToken cancellationToken)
        {
            var address = $"{to.User}@{to.Host}";
            relay._asked.Enqueue(address);
            if ((relay.RecipientFault ?? relay.RecipientRule?.Invoke(address)) is { } fault)
                throw new SmtpResponseException(fault, quit: (int)fault.ReplyCode == 421);
            return Task.FromResult(true);
        }
    }

    private sealed class ScriptedStore(TestRelay relay) : MessageStore
    {
        public override async Task<SmtpResponse> SaveAsync(ISessionContext context, IMessageTransaction transaction,
            ReadOnlySequence<byte> buffer, CancellationToken cancellationToken)
        {
            var now = DateTimeOffset.UtcNow;
            relay._attempts.Enqueue(now);
            if (relay.Delay > TimeSpan.Zero)
                await Task.Delay(relay.Delay, cancellationToken);
            if (relay._script.TryDequeue(out var scripted))
                return scripted;
            if (relay.DataFault is { } fault)
                return fault;
            if (relay.DataRule?.Invoke() is { } ruled)
                return ruled;
            var raw = buffer.ToArray();
            using var stream = new MemoryStream(raw);
            relay._accepted.Enqueue(new ReceivedMail(now, MimeMessage.Load(stream, cancellationToken),
                [.. transaction.To.Select(m => $"{m.User}@{m.Host}")], raw, $"{transaction.From.User}@{transaction.From.Host}"));
            return SmtpResponse.Ok;
        }
    }
}
