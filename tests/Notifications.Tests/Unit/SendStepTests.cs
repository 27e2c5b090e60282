using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using MimeKit;
using Notifications.Core.Bounces;
using Notifications.Core.Clients;
using Notifications.Core.Contract;
using Notifications.Core.Store;
using Notifications.Core.Suppressions;
using Notifications.Core.Telemetry;
using Notifications.Core.Topology;
using Notifications.Core.Unsubscribing;
using Notifications.Core.Validation;
using Notifications.Tests.Infrastructure;
using Notifications.Worker.Claims;
using Notifications.Worker.Recipients;
using Notifications.Worker.SendPath;
using Notifications.Worker.Sending;
using Notifications.Worker.Signing;
using Notifications.Worker.Transport;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace Notifications.Tests.Unit;

/// <summary>Each send step alone, with fakes of its two or three dependencies; the integration tests prove the composition.</summary>
public sealed class SendStepTests
{
    private static readonly NotificationsTelemetry Telemetry = new(new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>());

    private static EmailJob Job(string to = "Bob <bob@example.org>", string? list = null) => new()
    {
        Id = "0192f0c5-6d3e-7b7e-9a1c-5e1f2d3c4b5a",
        CreatedAt = DateTimeOffset.UtcNow,
        From = "Notifications <no-reply@example.com>",
        To = [to],
        Subject = "Your invoice",
        Text = "Attached.",
        Client = "tests",
        List = list,
    };

    private static SendContext Context(byte[]? body = null, Lane lane = Lane.Normal, CancellationToken holdsAborted = default)
    {
        var properties = new BasicProperties { MessageId = "0192f0c5-6d3e-7b7e-9a1c-5e1f2d3c4b5a", Headers = new Dictionary<string, object?>() };
        var args = new BasicDeliverEventArgs("consumer", 1, false, "notifications", "email.send", properties, body ?? JobCodec.Encode(Job()));
        return new SendContext(new Delivery(args, null!, lane, NullLogger.Instance), holdsAborted, default);
    }

    private static SendContext Decoded(EmailJob? job = null, Lane lane = Lane.Normal, CancellationToken holdsAborted = default)
    {
        var context = Context(lane: lane, holdsAborted: holdsAborted);
        context.Job = job ?? Job();
        context.Envelope = new Envelope([.. context.Job.AllRecipients()], [], Everyone: true);
        return context;
    }

    private static SendStepDelegate Next(Action? then = null) => _ =>
    {
        then?.Invoke();
        return Task.CompletedTask;
    };

    [Fact]
    public async Task Decode_makes_garbage_and_an_invalid_job_poison_and_passes_a_valid_one_on()
    {
        var clients = new ClientsOptions();
        clients.ByName["tests"] = new ClientOptions { KeyHashes = [new string('a', 64)], AllowedFrom = ["Notifications <no-reply@example.com>"] };
        var step = new DecodeStep(new EmailJobValidator(Options.Create(new EmailOptions()), new ClientRegistry(Options.Create(clients)),
            Options.Create(new UnsubscribeOptions())));
        var garbage = Context("not json"u8.ToArray());
        var invalid = Context(JobCodec.Encode(Job(to: "not an address")));
        var valid = Context();
        var went = 0;

        await step.RunAsync(garbage, Next(() => went++));
        await step.RunAsync(invalid, Next(() => went++));
        await step.RunAsync(valid, Next(() => went++));

        Assert.IsType<JobOutcome.Invalid>(garbage.Outcome);
        Assert.Contains("to", Assert.IsType<JobOutcome.Invalid>(invalid.Outcome).Reason);
        Assert.NotNull(invalid.Job); // still a job: its webhook names its recipients
        Assert.Equal((1, "Your invoice"), (went, valid.Job!.Subject));
    }

    [Fact]
    public async Task Recipient_leaves_out_the_suppressed_and_ends_a_job_with_nobody_left_as_suppressed_or_as_sent_before()
    {
        var suppressions = new MemorySuppressions();
        await suppressions.AddSuppressionAsync(new Suppression("bob@example.org", "bounced", Suppression.Bounce, null, DateTimeOffset.UtcNow), default);
        var statuses = new MemoryStatuses();
        var guard = new SendGuard(new MemoryClaims(), new SentLedger(), Options.Create(new StoreOptions()), TimeProvider.System, NullLogger<SendGuard>.Instance);
        var step = new RecipientStep(new RecipientFilter(suppressions, Telemetry, TimeProvider.System, NullLogger<RecipientFilter>.Instance), guard, statuses);
        var both = Decoded(Job() with { Id = "both", Cc = ["carol@example.org"] });
        var alone = Decoded(Job() with { Id = "alone" });
        var sentBefore = Decoded(Job() with { Id = "sent-before" });
        await statuses.SetStatusAsync(new JobStatus("sent-before", JobStatus.Sent, DateTimeOffset.UtcNow), default);
        var went = 0;

        await step.RunAsync(both, Next(() => went++));
        await step.RunAsync(alone, Next(() => went++));
        await step.RunAsync(sentBefore, Next(() => went++));

        Assert.Equal(1, went);
        Assert.Equal(["carol@example.org"], both.Envelope!.Send);
        Assert.Equal(["Bob <bob@example.org>"], Assert.IsType<JobOutcome.Suppressed>(alone.Outcome).Addresses);
        Assert.IsType<JobOutcome.SentBefore>(sentBefore.Outcome); // a redelivery of a job sent before bob was suppressed
    }

    [Fact]
    public async Task Sending_slot_is_held_until_the_rest_of_the_path_ended_and_a_stopping_worker_returns_the_job_instead_of_waiting()
    {
        var gate = new LaneGate(1);
        var step = new SendingSlotStep(gate);
        using var stopping = new CancellationTokenSource();
        var waiting = Decoded(holdsAborted: stopping.Token);
        Task? second = null;

        await step.RunAsync(Decoded(), _ =>
        {
            second = step.RunAsync(waiting, Next(() => throw new InvalidOperationException("entered a slot that was taken")));
            Assert.False(second.IsCompleted); // the one slot is held by the first
            return stopping.CancelAsync();
        });
        await second!.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.IsType<JobOutcome.Returned>(waiting.Outcome);
    }

    [Fact]
    public async Task Domain_turn_returns_the_job_when_the_worker_stops_while_it_waits_for_its_domains_turn()
    {
        var clock = new FakeTimeProvider();
        var pacer = new DomainPacer(Options.Create(new SmtpOptions { Host = "relay.example.net", DomainLimits = new() { ["example.org"] = 1 } }), clock, Telemetry);
        var step = new DomainTurnStep(pacer, new ClientRegistry(Options.Create(new ClientsOptions())));
        using var stopping = new CancellationTokenSource();
        await step.RunAsync(Decoded(), Next()); // takes example.org's turn for this second
        var second = Decoded(holdsAborted: stopping.Token);

        var run = step.RunAsync(second, Next(() => throw new InvalidOperationException("went ahead of its domain's turn")));
        await stopping.CancelAsync();
        await run.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.IsType<JobOutcome.Returned>(second.Outcome);
    }

    [Fact]
    public async Task Claim_ends_a_job_sent_before_releases_its_claim_when_the_path_failed_and_keeps_it_when_the_relay_said_yes()
    {
        var claims = new MemoryClaims();
        var ledger = new SentLedger();
        var step = new ClaimStep(new SendGuard(claims, ledger, Options.Create(new StoreOptions()), TimeProvider.System, NullLogger<SendGuard>.Instance));
        var failed = Decoded(Job() with { Id = "failed" });
        var accepted = Decoded(Job() with { Id = "accepted" });
        var before = Decoded(Job() with { Id = "before" });
        ledger.Add("before");

        await step.RunAsync(failed, _ => throw new IOException("relay went away"));
        await step.RunAsync(accepted, c =>
        {
            c.Outcome = new JobOutcome.Sent(new SendResult("250 ok", []), 1);
            return Task.CompletedTask;
        });
        await step.RunAsync(before, Next(() => throw new InvalidOperationException("sent twice")));

        Assert.IsType<JobOutcome.Failed>(failed.Outcome);
        Assert.DoesNotContain("failed", claims.Held);
        Assert.Contains("accepted", claims.Held);
        Assert.IsType<JobOutcome.SentBefore>(before.Outcome);
    }

    [Fact]
    public async Task Build_makes_the_message_and_names_the_envelope_only_when_someone_was_left_out()
    {
        var everyone = Decoded();
        var some = Decoded(Job() with { Cc = ["carol@example.org"] });
        some.Envelope = new Envelope(["carol@example.org"], ["bob@example.org"], Everyone: false);

        await new BuildStep().RunAsync(everyone, Next());
        await new BuildStep().RunAsync(some, Next());

        Assert.Equal("Your invoice", everyone.Message!.Subject);
        Assert.Null(everyone.Mailboxes);
        Assert.Equal(["carol@example.org"], some.Mailboxes!.Select(m => m.Address));
    }

    [Fact]
    public async Task Return_path_sets_the_envelope_sender_and_the_token_the_mail_carries_and_nothing_without_a_bounce_domain()
    {
        var returnPath = new ReturnPath(Options.Create(new BouncesOptions { Domain = "bounces.example.com", Secret = new string('s', 32) }));
        var on = Decoded();
        on.Message = MimeMessageFactory.Build(on.Job!);
        var off = Decoded();
        off.Message = MimeMessageFactory.Build(off.Job!);

        await new ReturnPathStep(returnPath).RunAsync(on, Next());
        await new ReturnPathStep(new ReturnPath(Options.Create(new BouncesOptions()))).RunAsync(off, Next());

        Assert.True(returnPath.TryReadJobId(on.Sender!.Address, out var id));
        Assert.Equal(on.Job!.Id, id);
        Assert.Equal(on.Sender.Address, on.Message.Headers[InboundHeaders.ReportToken]);
        Assert.Null(off.Sender);
        Assert.False(off.Message.Headers.Contains(InboundHeaders.ReportToken));
    }

    [Fact]
    public async Task List_headers_go_on_list_mail_only_with_a_one_click_link()
    {
        var options = Options.Create(new UnsubscribeOptions { BaseUrl = "https://mail.example.com/", Secret = new string('u', 32) });
        var step = new ListHeadersStep(new UnsubscribeTokens(options, new FakeTimeProvider()), options);
        var list = Decoded(Job(list: "digest"));
        list.Message = MimeMessageFactory.Build(list.Job!);
        var plain = Decoded();
        plain.Message = MimeMessageFactory.Build(plain.Job!);

        await step.RunAsync(list, Next());
        await step.RunAsync(plain, Next());

        Assert.Equal("<digest.tests.example.com>", list.Message.Headers["List-Id"]);
        Assert.StartsWith("<https://mail.example.com/unsubscribe/", list.Message.Headers["List-Unsubscribe"]);
        Assert.Equal("List-Unsubscribe=One-Click", list.Message.Headers["List-Unsubscribe-Post"]);
        Assert.False(plain.Message.Headers.Contains("List-Id"));
    }

    [Fact]
    public async Task Sign_signs_mail_of_a_domain_with_a_key_from_its_not_before_and_leaves_other_mail_unsigned()
    {
        using var keys = new DkimTestKeys();
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var ring = new DkimKeyRing(Options.Create(new DkimOptions
        {
            Keys = [new DkimKeyOptions { Domain = DkimTestKeys.Domain, Selector = DkimTestKeys.RsaSelector, KeyFile = keys.RsaFile, NotBefore = clock.GetUtcNow().AddHours(1) }],
        }));
        var step = new SignStep(ring, Telemetry, clock);
        var early = Decoded();
        early.Message = MimeMessageFactory.Build(early.Job!);
        var due = Decoded();
        due.Message = MimeMessageFactory.Build(due.Job!);
        var other = Decoded(Job() with { From = "someone@example.net" });
        other.Message = MimeMessageFactory.Build(other.Job!);

        await step.RunAsync(early, Next());
        clock.Advance(TimeSpan.FromHours(1));
        await step.RunAsync(due, Next());
        await step.RunAsync(other, Next());

        Assert.False(early.Message.Headers.Contains(HeaderId.DkimSignature));
        Assert.Contains("s=" + DkimTestKeys.RsaSelector, due.Message.Headers[HeaderId.DkimSignature]);
        Assert.False(other.Message.Headers.Contains(HeaderId.DkimSignature));
    }

    private sealed class MemorySuppressions : ISuppressions
    {
        private readonly Dictionary<string, Suppression> _entries = [];

        public Task<IReadOnlyDictionary<string, Suppression>> FindSuppressionsAsync(IReadOnlyCollection<string> addresses, CancellationToken cancellationToken) =>
            Task.FromResult<IReadOnlyDictionary<string, Suppression>>(addresses.Where(_entries.ContainsKey).ToDictionary(a => a, a => _entries[a]));

        public Task AddSuppressionAsync(Suppression suppression, CancellationToken cancellationToken)
        {
            _entries[suppression.Key] = suppression;
            return Task.CompletedTask;
        }

        public Task<Suppression?> GetSuppressionAsync(string address, CancellationToken cancellationToken) => Task.FromResult(_entries.GetValueOrDefault(address));

        public Task<IReadOnlyList<Suppression>> GetSuppressionsOfAsync(string address, CancellationToken cancellationToken) =>
            Task.FromResult<IReadOnlyList<Suppression>>([.. _entries.Values.Where(e => e.Address == address)]);

        public Task<bool> RemoveSuppressionAsync(string address, CancellationToken cancellationToken) => Task.FromResult(_entries.Remove(address));

        public Task<SuppressionPage> ListSuppressionsAsync(SuppressionQuery query, CancellationToken cancellationToken) =>
            Task.FromResult(new SuppressionPage([.. _entries.Values], null));
    }

    private sealed class MemoryStatuses : IJobStatuses
    {
        private readonly Dictionary<string, JobStatus> _statuses = [];

        public Task SetStatusAsync(JobStatus status, CancellationToken cancellationToken)
        {
            _statuses[status.JobId] = status;
            return Task.CompletedTask;
        }

        public Task<JobStatus?> GetStatusAsync(string jobId, CancellationToken cancellationToken) => Task.FromResult(_statuses.GetValueOrDefault(jobId));

        public Task<int> EraseAddressAsync(string address, CancellationToken cancellationToken) => Task.FromResult(0);

        public Task<bool> TryChangeStatusAsync(JobStatus status, string expected, CancellationToken cancellationToken) => Task.FromResult(false);
    }

    private sealed class MemoryClaims : ISendClaims
    {
        public HashSet<string> Held { get; } = [];

        public Task<SendClaim> TryStartSendAsync(string jobId, CancellationToken cancellationToken) =>
            Task.FromResult(Held.Add(jobId) ? SendClaim.Acquired : SendClaim.InProgress);

        public Task<bool> RenewSendAsync(string jobId, CancellationToken cancellationToken) => Task.FromResult(Held.Contains(jobId));

        public Task MarkSentAsync(string jobId, JobStatus sent, CancellationToken cancellationToken) => Task.CompletedTask;

        public Task ReleaseSendAsync(string jobId, CancellationToken cancellationToken)
        {
            Held.Remove(jobId);
            return Task.CompletedTask;
        }
    }
}
