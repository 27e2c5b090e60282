using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Notifications.Core.Contract;
using Notifications.Core.MessageLog;
using Notifications.Core.Store;
using Notifications.Core.Telemetry;
using Notifications.Core.Topology;
using Notifications.Tests.Infrastructure;
using Notifications.Worker.Recipients;
using Notifications.Worker.SendPath;
using Notifications.Worker.Settling;
using Notifications.Worker.Transport;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace Notifications.Tests.Unit;

/// <summary>
/// The settling stage's actions alone, on a recorded channel and a fake clock: what each route acks or returns, what it
/// announces, and the message log's entries an outcome stands for. (Parking a copy and the follow-up job publish to the
/// broker, confirmed; they are tested against it: ParkingOrderTests, AfterSendTests.)
/// </summary>
public sealed class SettleActionTests
{
    private sealed class Told : IAnnouncementStep
    {
        public List<Announcement> Announcements { get; } = [];
        public bool Fails { get; set; }
        public string Name(Announcement announcement) => "told";
        public bool MustConfirm => true;

        public Task AnnounceAsync(Announcement announcement, CancellationToken cancellationToken)
        {
            if (Fails)
                throw new Core.Broker.PublishFailedException("the broker is away (test)");
            Announcements.Add(announcement);
            return Task.CompletedTask;
        }
    }

    private static (UnsentJobs Unsent, Settlement Settlement, Told Told, FakeTimeProvider Clock) Build()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 12, 7, 12, 0, 0, TimeSpan.Zero));
        var told = new Told();
        var provider = SettlingServices.Build(clock, told);
        var unsent = new UnsentJobs(provider.GetRequiredService<Announcer>(), provider.GetRequiredService<NotificationsTelemetry>(), clock,
            NullLogger<UnsentJobs>.Instance);
        // Only the Returned route is taken here, which needs none of the others.
        var settlement = new Settlement(null!, unsent, null!, null!, null!, NullLogger<Settlement>.Instance);
        return (unsent, settlement, told, clock);
    }

    private static (Delivery Delivery, RecordingChannel Channel) DeliveryOf(string id, int attempts = 0)
    {
        var (channel, record) = RecordingChannel.Create();
        var properties = new BasicProperties
        {
            MessageId = id,
            Headers = new Dictionary<string, object?> { [JobHeaders.Client] = "tests", [JobHeaders.Attempts] = attempts },
        };
        var args = new BasicDeliverEventArgs("consumer", 7, false, "notifications", "email.send", properties, ReadOnlyMemory<byte>.Empty);
        return (new Delivery(args, channel, Lane.Normal, NullLogger.Instance), record);
    }

    private static EmailJob Job(string id) => new()
    {
        Id = id, CreatedAt = new DateTimeOffset(2026, 12, 7, 11, 0, 0, TimeSpan.Zero), Client = "tests", From = "no-reply@example.com",
        To = ["Bob <bob@example.com>"], Cc = ["carol@example.org"], Subject = "s", Text = "t",
    };

    [Fact]
    public async Task A_cancelled_job_that_came_due_is_announced_with_its_log_entry_then_acked()
    {
        var (unsent, _, told, clock) = Build();
        var (delivery, channel) = DeliveryOf("job-c");

        await unsent.DropCancelledAsync(delivery, Job("job-c"), CancellationToken.None);

        var announcement = Assert.Single(told.Announcements);
        Assert.Equal("EmailCancelled", announcement.Event!.Name);
        Assert.Null(announcement.Status); // the API wrote "cancelled" when the cancel came
        var entry = Assert.Single(LogAnnouncement.Entries(announcement));
        Assert.Equal(LogEntryTypes.Cancelled, entry.Type);
        Assert.Equal(clock.GetUtcNow(), entry.At);
        Assert.Equal("s", entry.Message!.Subject); // the facts ride on the first entry
        Assert.Equal(["ack 7"], channel.Settled);
    }

    [Fact]
    public async Task A_job_whose_every_recipient_is_suppressed_is_announced_suppressed_with_who_and_why_then_acked()
    {
        var (unsent, _, told, _) = Build();
        var (delivery, channel) = DeliveryOf("job-s", attempts: 1);

        await unsent.CompleteSuppressedAsync(delivery, Job("job-s"), ["Bob <bob@example.com>", "carol@example.org"], unsubscribed: true, CancellationToken.None);

        var announcement = Assert.Single(told.Announcements);
        Assert.Equal(JobStatus.Suppressed, announcement.Status!.Status);
        Assert.Equal(2, announcement.Status.Attempt);
        var entry = Assert.Single(LogAnnouncement.Entries(announcement));
        Assert.Equal(LogEntryTypes.Suppressed, entry.Type);
        Assert.Equal(["bob@example.com", "carol@example.org"], entry.Details!["suppressed"]!.AsArray().Select(n => (string)n!));
        Assert.Equal("unsubscribed", (string?)entry.Details["why"]);
        Assert.Equal(["ack 7"], channel.Settled);
    }

    [Fact]
    public async Task When_the_announcement_cannot_be_confirmed_and_the_channel_is_gone_the_delivery_goes_back_instead_of_being_acked()
    {
        var (unsent, _, told, _) = Build();
        var (delivery, channel) = DeliveryOf("job-x");
        told.Fails = true;
        channel.Open = false; // no longer held: the announcer stops trying

        await unsent.DropCancelledAsync(delivery, Job("job-x"), CancellationToken.None);

        Assert.Empty(told.Announcements);
        Assert.Equal(["nack 7 requeue=True"], channel.Settled);
    }

    [Fact]
    public async Task A_returned_delivery_goes_back_to_the_queue_and_nothing_is_announced()
    {
        var (_, settlement, told, _) = Build();
        var (delivery, channel) = DeliveryOf("job-r");
        var context = new SendContext(delivery, CancellationToken.None, CancellationToken.None)
            { Outcome = new JobOutcome.Returned("the relay has been down for longer than Smtp:OutageHold") };

        await settlement.SettleAsync(context);

        Assert.Empty(told.Announcements);
        Assert.Equal(["nack 7 requeue=True"], channel.Settled);
    }

    [Fact]
    public void A_sent_outcome_stands_for_its_attempt_its_send_and_its_deferred_recipients_the_first_with_the_facts_the_attempt_with_the_content()
    {
        var at = new DateTimeOffset(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);
        var sent = new JobStatus("job-1", JobStatus.Sent, at, 2, Replays: 1, Client: "tests",
            Recipients: new RecipientOutcomes(Rejected: [new RefusedRecipient("gone@example.com", "550 5.1.1 no such user")],
                Deferred: [new RefusedRecipient("later@example.com", "451 4.3.0 try later") { FollowUp = "job-1-r2" }]));
        var announcement = new Announcement("job-1", "tests", "sent")
        {
            WrittenStatus = sent,
            Job = Job("job-1"),
            Signed = true,
            Attempt = new RelayAttempt(2, at.AddMilliseconds(-40), "relay:25", true, 38.5, [("bob@example.com", "2.0.0 Ok"), ("gone@example.com", "550 5.1.1 no such user")]),
            Content = new LoggedContent("t", null, [new LoggedHeader("Subject", "s")]),
        };

        var entries = LogAnnouncement.Entries(announcement);

        Assert.Equal([LogEntryTypes.Attempt, LogEntryTypes.Sent, LogEntryTypes.Deferred], entries.Select(e => e.Type));
        Assert.Equal(["attempt:1:2", "sent:1:2", "deferred:1:2"], entries.Select(e => e.UniqueKey)); // the same however often announced
        Assert.NotNull(entries[0].Message);
        Assert.True(entries[0].Message!.Signed);
        Assert.NotNull(entries[0].Content);
        Assert.Null(entries[1].Message);
        Assert.Equal("relay:25", (string?)entries[0].Details!["relay"]);
        Assert.Equal(38.5, (double)entries[0].Details!["durationMs"]!);
        Assert.Equal("550 5.1.1 no such user", (string?)entries[1].Details!["rejected"]![0]!["reply"]);
        Assert.Equal("job-1-r2", (string?)entries[2].Details!["followUp"]);
        Assert.Equal(1, (int)entries[1].Details!["replays"]!);
    }

    [Fact]
    public void A_retry_carries_its_queue_and_due_time_and_an_outcome_of_no_status_and_no_entries_stands_for_nothing()
    {
        var at = new DateTimeOffset(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);
        var retry = new Announcement("job-2", "tests", "retrying")
        {
            Status = new JobStatus("job-2", JobStatus.Retrying, at, 1, Error: "SMTP 451 later", Client: "tests"),
            LogDetails = new JsonObject { ["queue"] = "email.retry.1", ["due"] = at.AddSeconds(5) },
        };
        var entry = Assert.Single(LogAnnouncement.Entries(retry));
        Assert.Equal(LogEntryTypes.RetryScheduled, entry.Type);
        Assert.Equal("email.retry.1", (string?)entry.Details!["queue"]);
        Assert.Equal("SMTP 451 later", (string?)entry.Details["error"]);
        Assert.Empty(LogAnnouncement.Entries(new Announcement("job-3", "tests", "a delay")));
    }
}
