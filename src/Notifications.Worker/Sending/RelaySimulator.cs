using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Notifications.Core.Bounces;
using Notifications.Core.Broker;
using Notifications.Core.Contract;
using Notifications.Core.Store;
using Notifications.Core.Topology;

namespace Notifications.Worker.Sending;

/// <summary>The <c>Test</c> section: the relay simulator that answers for test clients (docs/test-mode.md).</summary>
public sealed class TestModeOptions
{
    public const string Section = "Test";

    /// <summary>The domain of the simulated recipients (<c>bounce@</c>, <c>defer@</c>, …).</summary>
    public string SimulatorDomain { get; set; } = "simulator.notifications.test";

    /// <summary>How long <c>slow@</c> keeps the simulated relay busy before it says yes.</summary>
    public TimeSpan SlowDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long after the simulated 250 the bounce of <c>bounce-later@</c> or the complaint of <c>complaint@</c> comes back.</summary>
    public TimeSpan ReportDelay { get; set; } = TimeSpan.FromSeconds(3);
}

/// <summary>
/// The relay a test client's mail goes to: nothing leaves the worker. Each recipient at <c>Test:SimulatorDomain</c> gets
/// what a real relay would answer — <c>bounce@</c> a 550 5.1.1 at RCPT, <c>defer@</c> a 451 once (then it is taken on the
/// first retry), <c>fail@</c> a 451 every time, <c>slow@</c> a 250 after <c>Test:SlowDelay</c> — and the job takes the
/// path those answers take (a rejected recipient, a follow-up job, the retry queues, the DLQ). <c>bounce-later@</c> and
/// <c>complaint@</c> are taken, and a DSN or an ARF report comes back <c>Test:ReportDelay</c> later to the job's return
/// path through <c>email.inbound</c>, read and authenticated as a real one is (with <c>Bounces:Domain</c> set: without it,
/// as in production, nothing comes back). Any other address is simply taken.
/// </summary>
public sealed partial class RelaySimulator(
    IOptions<TestModeOptions> options,
    ReturnPath returnPath,
    ConfirmedPublisher publisher,
    TimeProvider clock,
    ILogger<RelaySimulator> logger)
{
    public const string Name = "simulator (test mode)";

    private readonly TestModeOptions _options = options.Value;

    /// <param name="recipients">the envelope's recipients, as the job spells them.</param>
    /// <param name="attempt">this delivery's attempt, 1 for the first.</param>
    /// <exception cref="RecipientsRefusedException">every recipient was refused (the failure table takes it as a real one).</exception>
    public async Task<SendResult> SendAsync(EmailJob job, IReadOnlyList<string> recipients, int attempt, CancellationToken cancellationToken)
    {
        var refused = new List<RefusedRecipient>();
        var reports = new List<(string Address, bool Complaint)>();
        var slow = false;
        foreach (var recipient in recipients)
        {
            var address = EmailAddresses.TryParseMailbox(recipient, out var mailbox, out _) ? mailbox!.Address : recipient;
            switch (SimulatedKind(address))
            {
                case "bounce":
                    refused.Add(new RefusedRecipient(address, $"550 5.1.1 <{address}>: Recipient address rejected: simulated: no such mailbox (test mode)"));
                    break;
                case "defer" when attempt == 1 && job.OnlyTo is null:
                case "fail":
                    refused.Add(new RefusedRecipient(address, $"451 4.2.0 <{address}>: simulated: try again later (test mode)"));
                    break;
                case "slow":
                    slow = true;
                    break;
                case "bounce-later":
                    reports.Add((address, false));
                    break;
                case "complaint":
                    reports.Add((address, true));
                    break;
            }
        }
        if (refused.Count == recipients.Count)
            throw new RecipientsRefusedException(refused);
        if (slow)
            await Task.Delay(_options.SlowDelay, clock, cancellationToken);
        foreach (var (address, complaint) in reports)
            _ = ReportLaterAsync(job, address, complaint);
        return new SendResult("250 2.0.0 simulated: queued, nothing was mailed (test mode)", refused, Name, null);
    }

    /// <summary>bounce, defer, fail, slow, bounce-later, complaint, delivered — or null for an address outside the simulator.</summary>
    public string? SimulatedKind(string address)
    {
        var at = address.LastIndexOf('@');
        return at > 0 && address.AsSpan(at + 1).Equals(_options.SimulatorDomain, StringComparison.OrdinalIgnoreCase)
            ? address[..at].ToLowerInvariant()
            : null;
    }

    /// <summary>
    /// The DSN or complaint a receiving system would send back, to the job's return path, a while after the 250. In
    /// memory until then: a worker stopped meanwhile loses it (a simulator's report, not a mail).
    /// </summary>
    private async Task ReportLaterAsync(EmailJob job, string address, bool complaint)
    {
        try
        {
            if (returnPath.AddressFor(job.Id) is not { } to)
            {
                LogNoReturnPath(job.Id, address);
                return;
            }
            await Task.Delay(_options.ReportDelay, clock);
            var body = complaint ? Complaint(job, address, to) : Bounce(job, address, to);
            await publisher.PublishAsync(TopologyNames.InboundKey, InboundHeaders.For(to, "", Name, clock.GetUtcNow()), body, CancellationToken.None);
        }
        catch (Exception ex)
        {
            LogReportLost(job.Id, address, ex.GetBaseException().Message);
        }
    }

    private static byte[] Bounce(EmailJob job, string address, string to) => Encoding.ASCII.GetBytes($"""
        From: MAILER-DAEMON@{SimulatorHost} (Mail Delivery System)
        To: {to}
        Subject: Undelivered Mail Returned to Sender
        Auto-Submitted: auto-replied
        MIME-Version: 1.0
        Content-Type: multipart/report; report-type=delivery-status; boundary="simulated"

        --simulated
        Content-Type: text/plain; charset=us-ascii

        Your message to {address} could not be delivered (simulated bounce, test mode).

        --simulated
        Content-Type: message/delivery-status

        Reporting-MTA: dns; {SimulatorHost}

        Final-Recipient: rfc822; {address}
        Action: failed
        Status: 5.1.1
        Diagnostic-Code: smtp; 550 5.1.1 <{address}>: simulated: the mailbox was closed after it took the mail (test mode)

        --simulated
        Content-Type: text/rfc822-headers

        Message-ID: <{job.Id}@simulated>
        To: {address}

        --simulated--

        """.ReplaceLineEndings("\r\n"));

    private static byte[] Complaint(EmailJob job, string address, string to) => Encoding.ASCII.GetBytes($"""
        From: feedback-loop@{SimulatorHost}
        To: {to}
        Subject: Complaint about a message (simulated, test mode)
        MIME-Version: 1.0
        Content-Type: multipart/report; report-type=feedback-report; boundary="simulated"

        --simulated
        Content-Type: text/plain; charset=us-ascii

        A recipient marked a message as spam (simulated complaint, test mode).

        --simulated
        Content-Type: message/feedback-report

        Feedback-Type: abuse
        User-Agent: notifications-simulator/1
        Version: 1
        Original-Rcpt-To: {address}

        --simulated
        Content-Type: text/rfc822-headers

        Message-ID: <{job.Id}@simulated>
        To: {address}

        --simulated--

        """.ReplaceLineEndings("\r\n"));

    private const string SimulatorHost = "simulator.notifications.test";

    [LoggerMessage(Level = LogLevel.Warning, Message = "Test mode: job {JobId} has no return path (Bounces:Domain is not set), so the simulated report for {Address} cannot come back")]
    private partial void LogNoReturnPath(string jobId, string address);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Test mode: the simulated report for {Address} of job {JobId} was not published: {Reason}")]
    private partial void LogReportLost(string jobId, string address, string reason);
}
