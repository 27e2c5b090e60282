using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;
using Notifications.Core.MessageLog;
using Notifications.Tests.Infrastructure;

namespace Notifications.Tests.Integration;

/// <summary>
/// One set of tests for both of the message log's stores: what one answers, the other answers too. SQLite runs on a temp
/// file; PostgreSQL on a database of its own on the test server (<see cref="PostgresEnvironment"/>).
/// </summary>
public abstract class MessageLogStoreTests
{
    protected static readonly DateTimeOffset Start = new(2026, 12, 7, 10, 0, 0, TimeSpan.Zero);

    protected abstract Task<IMessageLog> CreateAsync(MessageLogOptions options, TimeProvider clock);

    private async Task<(IMessageLog Log, FakeTimeProvider Clock)> StoreAsync(MessageLogOptions? options = null)
    {
        var clock = new FakeTimeProvider(Start);
        var log = await CreateAsync(options ?? new MessageLogOptions(), clock);
        await log.InitializeAsync(CancellationToken.None);
        return (log, clock);
    }

    private static LoggedMessage Facts(DateTimeOffset at, string subject, string[] to, string[]? cc = null, string[]? bcc = null,
        Dictionary<string, string>? metadata = null) => new(at, "Shop <no-reply@shop.example>", subject)
    {
        To = to,
        Cc = cc ?? [],
        Bcc = bcc ?? [],
        Metadata = metadata,
        Via = "http",
    };

    private static LogEntry Accepted(string id, DateTimeOffset at, LoggedMessage facts, string client = "shop") =>
        new(id, LogEntryTypes.Accepted, at) { Client = client, Key = "accepted", Message = facts, Details = new JsonObject { ["via"] = "http" } };

    private static LogEntry Sent(string id, DateTimeOffset at, string client = "shop") =>
        new(id, LogEntryTypes.Sent, at) { Client = client, Key = "sent:0:1", Details = new JsonObject { ["attempt"] = 1 } };

    [Fact]
    public async Task A_message_is_found_by_recipient_metadata_and_subject_words_and_reads_back_with_its_events_in_order_and_its_content()
    {
        var (log, _) = await StoreAsync();
        var facts = Facts(Start, "Your password reset link", ["Bob <Bob@Example.com>"], cc: ["carol@example.org"], bcc: ["audit@shop.example"],
            metadata: new() { ["tenant"] = "acme", ["kind"] = "reset" });
        await log.WriteAsync([Accepted("m1", Start, facts), Accepted("m2", Start.AddSeconds(1), Facts(Start.AddSeconds(1), "Weekly digest", ["dan@example.com"]))],
            CancellationToken.None);
        await log.WriteAsync([
            new LogEntry("m1", LogEntryTypes.Attempt, Start.AddSeconds(2))
            {
                Client = "shop", Key = "attempt:0:1",
                Details = new JsonObject { ["relay"] = "relay:25", ["tls"] = true, ["durationMs"] = 12.5,
                    ["recipients"] = new JsonArray(new JsonObject { ["address"] = "Bob@Example.com", ["reply"] = "250 2.0.0 ok" }) },
                Content = new LoggedContent("the text", "<p>the html</p>", [new LoggedHeader("Subject", "Your password reset link")]),
            },
            Sent("m1", Start.AddSeconds(2)),
        ], CancellationToken.None);

        var byRecipient = await log.SearchAsync(new MessageQuery(10) { Recipient = "bob@example.com" }, CancellationToken.None);
        var byBcc = await log.SearchAsync(new MessageQuery(10) { Recipient = "audit@shop.example" }, CancellationToken.None);
        var byMetadata = await log.SearchAsync(new MessageQuery(10) { Metadata = [new("tenant", "acme"), new("kind", "reset")] }, CancellationToken.None);
        var wrongMetadata = await log.SearchAsync(new MessageQuery(10) { Metadata = [new("tenant", "acme"), new("kind", "digest")] }, CancellationToken.None);
        var byWords = await log.SearchAsync(new MessageQuery(10) { Subject = "PASSWORD reset" }, CancellationToken.None);
        var byPrefix = await log.SearchAsync(new MessageQuery(10) { Subject = "pass*" }, CancellationToken.None);
        var byFromAndStatus = await log.SearchAsync(new MessageQuery(10) { From = "no-reply@shop.example", Status = "sent" }, CancellationToken.None);
        var all = await log.SearchAsync(new MessageQuery(10), CancellationToken.None);

        Assert.Equal(["m1"], byRecipient.Items.Select(m => m.Id));
        Assert.Equal(["m1"], byBcc.Items.Select(m => m.Id));
        Assert.Equal(["m1"], byMetadata.Items.Select(m => m.Id));
        Assert.Empty(wrongMetadata.Items);
        Assert.Equal(["m1"], byWords.Items.Select(m => m.Id));
        Assert.Equal(["m1"], byPrefix.Items.Select(m => m.Id));
        Assert.Equal(["m1"], byFromAndStatus.Items.Select(m => m.Id));
        Assert.Equal(["m2", "m1"], all.Items.Select(m => m.Id)); // newest first
        var m1 = byRecipient.Items[0];
        Assert.Equal("sent", m1.Status);
        Assert.Equal(Start, m1.AcceptedAt);
        Assert.Equal(Start.AddSeconds(2), m1.LastEventAt);
        Assert.Contains(new MessageRecipient("bob@example.com", "to"), m1.Recipients);
        Assert.Contains(new MessageRecipient("carol@example.org", "cc"), m1.Recipients);
        Assert.Contains(new MessageRecipient("audit@shop.example", "bcc"), m1.Recipients);
        Assert.Equal("acme", m1.Metadata!["tenant"]);

        var view = await log.GetAsync("m1", null, CancellationToken.None);
        Assert.Equal(["accepted", "attempt", "sent"], view!.Events.Select(e => e.Type));
        Assert.Equal("relay:25", (string?)view.Events[1].Details!["relay"]);
        Assert.True((bool)view.Events[1].Details!["tls"]!);
        Assert.Equal("250 2.0.0 ok", (string?)view.Events[1].Details!["recipients"]![0]!["reply"]);
        var content = await log.GetContentAsync("m1", "shop", CancellationToken.None);
        Assert.Equal("<p>the html</p>", content.Content!.Html);
        Assert.Equal("Subject", content.Content.Headers[0].Name);
        Assert.True(view.Message.HasContent);
    }

    [Fact]
    public async Task An_entry_written_twice_is_one_event_a_late_earlier_status_does_not_win_and_another_clients_message_is_unknown()
    {
        var (log, _) = await StoreAsync();
        await log.WriteAsync([Accepted("m1", Start, Facts(Start, "s", ["bob@example.com"])), Sent("m1", Start.AddSeconds(5))], CancellationToken.None);
        await log.WriteAsync([Sent("m1", Start.AddSeconds(5))], CancellationToken.None); // redelivered
        await log.WriteAsync([new LogEntry("m1", LogEntryTypes.RetryScheduled, Start.AddSeconds(1)) { Client = "shop", Key = "retry-scheduled:0:1" }],
            CancellationToken.None); // arrived late

        var view = await log.GetAsync("m1", "shop", CancellationToken.None);
        Assert.Equal(["accepted", "retry-scheduled", "sent"], view!.Events.Select(e => e.Type));
        Assert.Equal("sent", view.Message.Status);
        Assert.Null(await log.GetAsync("m1", "other", CancellationToken.None));
        Assert.Equal(ContentLookup.Unknown, await log.GetContentAsync("m1", "other", CancellationToken.None));
        Assert.Empty((await log.SearchAsync(new MessageQuery(10) { Client = "other" }, CancellationToken.None)).Items);
    }

    [Fact]
    public async Task A_message_first_seen_without_its_facts_takes_them_when_they_come()
    {
        var (log, _) = await StoreAsync();
        await log.WriteAsync([new LogEntry("m1", LogEntryTypes.Webhook, Start.AddSeconds(3)) { Client = "shop", Key = "webhook:1", Details = new JsonObject { ["status"] = 200 } }],
            CancellationToken.None);
        await log.WriteAsync([Accepted("m1", Start, Facts(Start, "late facts", ["bob@example.com"]))], CancellationToken.None);

        var found = await log.SearchAsync(new MessageQuery(10) { Recipient = "bob@example.com" }, CancellationToken.None);
        var view = await log.GetAsync("m1", null, CancellationToken.None);
        Assert.Equal("late facts", Assert.Single(found.Items).Subject);
        Assert.Equal(Start, view!.Message.AcceptedAt);
        Assert.Equal(["accepted", "webhook"], view.Events.Select(e => e.Type));
    }

    [Fact]
    public async Task Pages_follow_each_other_with_the_cursor_newest_first_without_a_gap_or_a_repeat()
    {
        var (log, _) = await StoreAsync();
        // Two messages accepted in the same millisecond: the id breaks the tie.
        var entries = Enumerable.Range(0, 5).Select(i => Accepted($"m{i}", Start.AddSeconds(i == 4 ? 3 : i), Facts(Start.AddSeconds(i == 4 ? 3 : i), "s", ["bob@example.com"])))
            .ToList();
        await log.WriteAsync(entries, CancellationToken.None);

        var seen = new List<string>();
        var query = new MessageQuery(2) { Recipient = "bob@example.com" };
        var pages = 0;
        while (true)
        {
            var page = await log.SearchAsync(query, CancellationToken.None);
            seen.AddRange(page.Items.Select(m => m.Id));
            pages++;
            if (page.Next is not { } next)
                break;
            query = query with { After = next };
        }
        Assert.Equal(["m4", "m3", "m2", "m1", "m0"], seen);
        Assert.Equal(3, pages);
        var window = await log.SearchAsync(new MessageQuery(10) { Since = Start.AddSeconds(1), Until = Start.AddSeconds(3) }, CancellationToken.None);
        Assert.Equal(["m2", "m1"], window.Items.Select(m => m.Id));
    }

    [Fact]
    public async Task Erasing_an_address_removes_the_messages_only_it_received_and_its_mention_in_the_others_and_a_repeat_finds_nothing()
    {
        var (log, _) = await StoreAsync();
        await log.WriteAsync([
            Accepted("alone", Start, Facts(Start, "only eve", ["Eve@Example.com"])),
            Accepted("shared", Start.AddSeconds(1), Facts(Start.AddSeconds(1), "eve and bob", ["bob@example.com"], cc: ["eve@example.com"])),
            new LogEntry("shared", LogEntryTypes.Attempt, Start.AddSeconds(2))
            {
                Client = "shop", Key = "attempt:0:1",
                Details = new JsonObject { ["recipients"] = new JsonArray(new JsonObject { ["address"] = "Eve@example.com", ["reply"] = "250 ok" },
                    new JsonObject { ["address"] = "bob@example.com", ["reply"] = "250 ok" }) },
                Content = new LoggedContent("hi eve@example.com", null, [new LoggedHeader("Cc", "eve@example.com")]),
            },
            Accepted("other", Start.AddSeconds(3), Facts(Start.AddSeconds(3), "bob only", ["bob@example.com"])),
        ], CancellationToken.None);

        var erased = await log.EraseAsync("eve@example.com", CancellationToken.None);
        var again = await log.EraseAsync("eve@example.com", CancellationToken.None);

        Assert.Equal(2, erased);
        Assert.Equal(0, again);
        Assert.Null(await log.GetAsync("alone", null, CancellationToken.None));
        var shared = await log.GetAsync("shared", null, CancellationToken.None);
        Assert.Equal([new MessageRecipient("bob@example.com", "to")], shared!.Message.Recipients);
        var attempt = shared.Events.Single(e => e.Type == "attempt").Details!.ToJsonString();
        Assert.DoesNotContain("eve", attempt, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("bob@example.com", attempt);
        Assert.Equal(ContentLookup.Gone, await log.GetContentAsync("shared", null, CancellationToken.None));
        Assert.Empty((await log.SearchAsync(new MessageQuery(10) { Recipient = "eve@example.com" }, CancellationToken.None)).Items);
        Assert.Equal(2, (await log.SearchAsync(new MessageQuery(10) { Recipient = "bob@example.com" }, CancellationToken.None)).Items.Count);
    }

    [Fact]
    public async Task Content_goes_after_its_retention_and_the_message_after_its_own_and_the_purge_says_how_many()
    {
        var (log, clock) = await StoreAsync(new MessageLogOptions { Retention = TimeSpan.FromDays(2), ContentRetention = TimeSpan.FromHours(1) });
        await log.WriteAsync([
            Accepted("m1", Start, Facts(Start, "s", ["bob@example.com"])),
            new LogEntry("m1", LogEntryTypes.Attempt, Start) { Client = "shop", Key = "attempt:0:1", Content = new LoggedContent("text", null, []) },
        ], CancellationToken.None);

        clock.Advance(TimeSpan.FromHours(2));
        var first = await log.PurgeAsync(clock.GetUtcNow(), CancellationToken.None);
        Assert.Equal(ContentLookup.Gone, await log.GetContentAsync("m1", null, CancellationToken.None));
        Assert.NotNull(await log.GetAsync("m1", null, CancellationToken.None));
        Assert.Equal(1, first.Contents);
        Assert.Equal(0, first.Messages);

        clock.Advance(TimeSpan.FromDays(3));
        var second = await log.PurgeAsync(clock.GetUtcNow(), CancellationToken.None);
        Assert.Null(await log.GetAsync("m1", null, CancellationToken.None));
        Assert.Equal(1, second.Messages);
        Assert.Empty((await log.SearchAsync(new MessageQuery(10), CancellationToken.None)).Items);
    }

    [Fact]
    public async Task Content_is_never_kept_when_its_retention_is_zero()
    {
        var (log, _) = await StoreAsync(new MessageLogOptions { ContentRetention = TimeSpan.Zero });
        await log.WriteAsync([
            Accepted("m1", Start, Facts(Start, "s", ["bob@example.com"])),
            new LogEntry("m1", LogEntryTypes.Attempt, Start) { Client = "shop", Key = "attempt:0:1", Content = new LoggedContent("text", null, []) },
        ], CancellationToken.None);
        Assert.Equal(ContentLookup.Gone, await log.GetContentAsync("m1", null, CancellationToken.None));
    }
}

public sealed class SqliteMessageLogStoreTests : MessageLogStoreTests
{
    protected override Task<IMessageLog> CreateAsync(MessageLogOptions options, TimeProvider clock) => Task.FromResult<IMessageLog>(
        new SqliteMessageLog(Path.Combine(Path.GetTempPath(), "notifications-tests", $"log-{Guid.NewGuid():N}.messages.db"), options, clock));
}

public sealed class PostgresMessageLogStoreTests : MessageLogStoreTests
{
    protected override async Task<IMessageLog> CreateAsync(MessageLogOptions options, TimeProvider clock) =>
        new PostgresMessageLog(await PostgresEnvironment.NewDatabaseAsync(), options, clock);
}
