using Notifications.Core.DeadLetters;
using System.Text;
using Notifications.Core.Broker;
using Notifications.Core.Contract;
using Notifications.Core.Topology;
using Notifications.Dlq;
using Notifications.Dlq.DeadLetters;
using Notifications.Tests.Infrastructure;
using RabbitMQ.Client;

namespace Notifications.Tests.Integration;

/// <summary>The <c>dlq</c> console against the real broker: nothing it reads is lost or reordered.</summary>
public sealed class DlqToolTests : IAsyncLifetime
{
    private readonly TestQueues _queues = new(new TopologyNames($"d{Guid.NewGuid():N}"[..13] + "."));
    private Dictionary<string, string?> _settings = null!;

    private TopologyNames Names => _queues.Names;

    public async Task InitializeAsync()
    {
        await _queues.DeclareAsync();
        _settings = new()
        {
            ["RabbitMq:Uri"] = (await BrokerEnvironment.UriAsync()).ToString(),
            ["RabbitMq:Prefix"] = Names.Prefix,
            ["Store:Path"] = _store,
        };
    }

    private readonly string _store = Path.Combine(Path.GetTempPath(), "notifications-tests", $"dlq-{Guid.NewGuid():N}.db");

    [Fact]
    public async Task Replay_records_replayed_as_each_jobs_status_in_the_deployments_store()
    {
        var id = await DeadLetterAsync("transient", "SMTP 451 later", attempts: 4);

        var run = await RunAsync("replay", id);

        Assert.Equal(0, run.Exit);
        var store = new Notifications.Core.Store.SqliteJobStore(Microsoft.Extensions.Options.Options.Create(
            new Notifications.Core.Store.StoreOptions { Path = _store }));
        var status = await store.GetStatusAsync(id, default);
        Assert.Equal(("replayed", 1), (status?.Status, status?.Replays ?? 0));
    }

    public async Task DisposeAsync() => await _queues.DeleteAllAsync();

    [Theory]
    [InlineData("--help")]
    [InlineData("-h")]
    [InlineData("help")]
    public async Task Help_asked_for_prints_the_usage_on_standard_output_and_succeeds(string help)
    {
        var run = await RunAsync(help);

        Assert.Equal((0, ""), (run.Exit, run.Err));
        Assert.Contains("dlq replay", run.Out);
        Assert.Contains("exit codes:", run.Out);
    }

    [Fact]
    public async Task Each_verb_has_its_own_help_and_the_shell_can_ask_for_completions()
    {
        var replay = await RunAsync("replay", "--help");
        var suppressions = await RunAsync("suppressions", "add", "-h");
        var completions = await RunAsync("[suggest:6]", "dlq re");

        Assert.Equal((0, ""), (replay.Exit, replay.Err));
        Assert.Contains("--dry-run", replay.Out);
        Assert.DoesNotContain("--yes", replay.Out); // delete's, not replay's
        Assert.Contains("--reason", suppressions.Out);
        Assert.Equal(0, completions.Exit);
        Assert.Contains("replay", completions.Out.Split('\n', StringSplitOptions.TrimEntries));
        Assert.Contains("reindex", completions.Out.Split('\n', StringSplitOptions.TrimEntries));
    }

    [Fact]
    public async Task Replay_queues_an_email_replayed_callback_with_the_jobs_recipients_only_for_a_client_with_a_webhook()
    {
        _settings["Clients:billing:KeyHashes:0"] = Notifications.Core.Clients.ClientRegistry.HashOf(TestClients.NewKey());
        _settings["Clients:billing:Webhook:Url"] = "https://billing.example.com/mail-events";
        _settings["Clients:billing:Webhook:Secret"] = "whsec_" + Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(24));
        _settings["Clients:shop:KeyHashes:0"] = Notifications.Core.Clients.ClientRegistry.HashOf(TestClients.NewKey());
        var billing = await DeadLetterAsync("transient", "SMTP 451 later", attempts: 4, client: "billing");
        await DeadLetterAsync("transient", "SMTP 451 later", attempts: 4, client: "shop");

        var run = await RunAsync("replay", "--all");

        Assert.Equal(0, run.Exit);
        var callback = Assert.Single(await _queues.TakeAsync(Names.WebhookSendQueue));
        using var json = System.Text.Json.JsonDocument.Parse(callback.Body);
        var data = json.RootElement.GetProperty("data");
        Assert.Equal(("email.replayed", billing, "billing", 1), (json.RootElement.GetProperty("type").GetString(), data.GetProperty("id").GetString(),
            data.GetProperty("client").GetString(), data.GetProperty("replays").GetInt32()));
        Assert.Equal(["alice@example.com"], data.GetProperty("recipients").EnumerateArray().Select(r => r.GetString()));
    }

    [Fact]
    public async Task A_MassTransit_subscriber_hears_EmailReplayed_with_replay_count_and_client_for_every_replayed_job()
    {
        // The tool writes MassTransit's envelope itself (no bus): a subscriber built as other services build theirs must not tell.
        await using var subscriber = await SampleSubscriber.StartAsync((await BrokerEnvironment.UriAsync()).ToString(), Names.Prefix);
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
            ids.Add(await DeadLetterAsync("transient", "SMTP 451 later", attempts: 4, client: "billing"));

        var run = await RunAsync("replay", "--all");

        Assert.Equal(0, run.Exit);
        await Eventually.TrueAsync(() => ids.All(id => subscriber.Of<Contracts.EmailReplayed>(id).Any()), "EmailReplayed for each replayed job");
        Assert.All(ids, id =>
        {
            var replayed = Assert.Single(subscriber.Of<Contracts.EmailReplayed>(id));
            Assert.Equal((1, "billing"), (replayed.Replays, replayed.Client));
            Assert.InRange(replayed.At, DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddSeconds(1));
        });
    }

    [Fact]
    public async Task Every_verb_over_more_letters_than_one_prefetch_ends_cleanly_and_changes_the_queue_only_by_what_it_moved()
    {
        const int count = 2_500; // more than the tool's window of 1,000 unacked letters
        var log = BrokerLog.Start();
        var letters = Enumerable.Range(0, count).Select(i =>
        {
            var id = Guid.CreateVersion7().ToString();
            var properties = JobProperties.ForNewJob(Job(id));
            properties.Headers![JobHeaders.Attempts] = 1;
            properties.Headers[JobHeaders.FailureKind] = i % 2 == 0 ? "permanent" : "poison";
            properties.Headers[JobHeaders.LastError] = "SMTP 550 5.1.1 no such user";
            return (Id: id, Properties: properties, Body: JobCodec.Encode(Job(id)));
        }).ToList();
        await _queues.PublishRawManyAsync(TopologyNames.DeadKey, letters.Select(l => (l.Properties, l.Body)));
        var export = Path.Combine(Path.GetTempPath(), $"dlq-export-{Guid.NewGuid():N}.jsonl");

        var list = await RunAsync("list", "--json");
        Assert.Equal((0, ""), (list.Exit, list.Err));
        // The queue's order (concurrent publishes may have arrived in another order than they were started).
        var queueOrder = System.Text.Json.JsonDocument.Parse(list.Out).RootElement.EnumerateArray().Select(e => e.GetProperty("id").GetString()!).ToList();
        Assert.Equal(letters.Select(l => l.Id).Order(), queueOrder.Order());
        await CountIsAsync(Names.DeadQueue, count);
        var show = await RunAsync("show", letters[^1].Id);
        Assert.Equal((0, ""), (show.Exit, show.Err));
        await CountIsAsync(Names.DeadQueue, count);
        var exported = await RunAsync("export", "--out", export);
        Assert.Equal(0, exported.Exit);
        Assert.Equal(queueOrder, File.ReadLines(export).Select(line => ExportFormat.FromLine(line, 0).Id)); // all, in the queue's order, after list and show
        await CountIsAsync(Names.DeadQueue, count);

        // Half chosen: the other half is held unacked meanwhile, more than one window of it.
        var some = await RunAsync("replay", "--all", "--kind", "permanent");
        Assert.Equal((0, ""), (some.Exit, some.Err));
        await CountIsAsync(Names.DeadQueue, count / 2);
        await CountIsAsync(Names.SendQueue, count / 2);
        var rest = await RunAsync("replay", "--all");
        Assert.Equal((0, ""), (rest.Exit, rest.Err));
        await CountIsAsync(Names.DeadQueue, 0);
        await CountIsAsync(Names.SendQueue, count);
        var order = (await _queues.TakeAsync(Names.SendQueue)).Select(m => m.Properties.MessageId!).ToList();
        var permanent = letters.Where((_, i) => i % 2 == 0).Select(l => l.Id).ToHashSet();
        // The first replay moved exactly the permanent half, the second the rest (publishes in flight together may swap places).
        Assert.Equal(permanent, order.Take(count / 2).ToHashSet());
        Assert.Equal(queueOrder.Where(id => !permanent.Contains(id)).ToHashSet(), order.Skip(count / 2).ToHashSet());
        File.Delete(export);

        // The broker's own record of the run: no channel or connection exception (when the test script says where its log is).
        Assert.Empty(log.NewErrors("unknown delivery tag", "unexpected method", "PRECONDITION_FAILED - unknown"));
    }

    [Fact]
    public async Task A_few_chosen_among_more_left_in_place_than_one_channel_holds_are_replayed_and_the_rest_keeps_its_order()
    {
        // Past DeadLetterQueue.SegmentHeld twice: the letters left in place are held through three channels.
        const int count = 2 * DeadLetterQueue.SegmentHeld + 2_000;
        var log = BrokerLog.Start();
        var letters = Enumerable.Range(0, count).Select(i =>
        {
            var id = Guid.CreateVersion7().ToString();
            var properties = JobProperties.ForNewJob(Job(id));
            properties.Headers![JobHeaders.FailureKind] = i % 10 == 0 ? "permanent" : "transient";
            properties.Headers[JobHeaders.LastError] = "SMTP 451 4.3.0 try again later";
            return (Id: id, Properties: properties, Body: JobCodec.Encode(Job(id)));
        }).ToList();
        await _queues.PublishRawManyAsync(TopologyNames.DeadKey, letters.Select(l => (l.Properties, l.Body)));
        var before = Path.Combine(Path.GetTempPath(), $"dlq-export-{Guid.NewGuid():N}.jsonl");
        var after = Path.Combine(Path.GetTempPath(), $"dlq-export-{Guid.NewGuid():N}.jsonl");
        Assert.Equal(0, (await RunAsync("export", "--out", before)).Exit);
        var queueOrder = File.ReadLines(before).Select(line => ExportFormat.FromLine(line, 0).Id).ToList();

        var replay = await RunAsync("replay", "--all", "--kind", "permanent");

        Assert.Equal((0, ""), (replay.Exit, replay.Err));
        await CountIsAsync(Names.SendQueue, count / 10);
        await CountIsAsync(Names.DeadQueue, count - count / 10);
        var permanent = letters.Where((_, i) => i % 10 == 0).Select(l => l.Id).ToHashSet();
        Assert.Equal(permanent, (await _queues.TakeAsync(Names.SendQueue)).Select(m => m.Properties.MessageId!).ToHashSet());
        Assert.Equal(0, (await RunAsync("export", "--out", after)).Exit);
        Assert.Equal(queueOrder.Where(id => !permanent.Contains(id)), File.ReadLines(after).Select(line => ExportFormat.FromLine(line, 0).Id));
        File.Delete(before);
        File.Delete(after);
        Assert.Empty(log.NewErrors("unknown delivery tag", "unexpected method", "PRECONDITION_FAILED - unknown"));
    }

    /// <summary>The queue's count settles at <paramref name="expected"/> (messages returned when a channel closes are requeued a moment later) and stays.</summary>
    private async Task CountIsAsync(string queue, int expected)
    {
        await Eventually.ReturnsAsync(() => _queues.CountAsync(queue), n => n == (uint)expected, $"{expected} messages in {queue}",
            TimeSpan.FromSeconds(10));
        await Task.Delay(200);
        Assert.Equal((uint)expected, await _queues.CountAsync(queue));
    }

    [Fact]
    public async Task List_neither_removes_nor_reorders()
    {
        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
            ids.Add(await DeadLetterAsync("transient", $"SMTP 451 4.3.0 try later #{i}", attempts: 4));

        var run = await RunAsync("list");
        var json = await RunAsync("list", "--json", "--limit", "3");

        Assert.Equal(0, run.Exit);
        Assert.All(ids, id => Assert.Contains(id, run.Out));
        Assert.Equal(0, json.Exit);
        Assert.Equal(3, System.Text.Json.JsonDocument.Parse(json.Out).RootElement.GetArrayLength());
        var left = await _queues.TakeAsync(Names.DeadQueue);
        Assert.Equal(ids, left.Select(m => m.Properties.MessageId));
    }

    [Fact]
    public async Task Group_counts_failures_of_one_cause_as_one_line()
    {
        for (var i = 0; i < 4; i++)
            await DeadLetterAsync("permanent", $"SMTP 550 MailboxUnavailable: 5.1.1 <user{i}@example.com> unknown", attempts: 1);
        await DeadLetterAsync("poison", "body is not a valid job: 'x' is invalid", attempts: 1);

        var run = await RunAsync("list", "--group", "--json");

        Assert.Equal(0, run.Exit);
        var groups = System.Text.Json.JsonDocument.Parse(run.Out).RootElement.EnumerateArray().ToList();
        Assert.Equal(2, groups.Count);
        Assert.Equal(4, groups[0].GetProperty("count").GetInt32());
        Assert.Equal("permanent", groups[0].GetProperty("kind").GetString());
        Assert.Contains("<address>", groups[0].GetProperty("error").GetString());
        Assert.Equal(1, groups[1].GetProperty("count").GetInt32());
        Assert.Equal(5u, await _queues.CountAsync(Names.DeadQueue));

        var replay = await RunAsync("replay", "--group", groups[0].GetProperty("key").GetString()!);
        Assert.Equal(0, replay.Exit);
        Assert.Equal(4u, await _queues.CountAsync(Names.SendQueue));
        Assert.Equal("poison", (await _queues.TakeAsync(Names.DeadQueue)).Single().Header(JobHeaders.FailureKind));
    }

    [Fact]
    public async Task Show_of_an_unknown_id_exits_3_and_a_known_one_shows_headers()
    {
        var id = await DeadLetterAsync("transient", "SMTP 421 busy", attempts: 4);

        var unknown = await RunAsync("show", "no-such-id");
        var known = await RunAsync("show", id, "--json");

        Assert.Equal(3, unknown.Exit);
        Assert.Contains("no-such-id", unknown.Err);
        Assert.Equal(0, known.Exit);
        Assert.Contains("SMTP 421 busy", known.Out);
        Assert.Equal(1u, await _queues.CountAsync(Names.DeadQueue));
    }

    [Fact]
    public async Task Show_prints_a_message_submitted_by_SMTP_as_its_text_not_base64()
    {
        var id = Guid.CreateVersion7().ToString();
        var raw = System.Text.Encoding.ASCII.GetBytes("From: no-reply@example.com\r\nTo: alice@example.com\r\nSubject: Submitted\r\n\r\nThe body as written.\r\n");
        var job = Job(id) with { Text = null, Raw = raw, Subject = "Submitted" };
        var properties = JobProperties.ForNewJob(job);
        properties.Headers![JobHeaders.FailureKind] = "permanent";
        properties.Headers[JobHeaders.LastError] = "SMTP 550 no";
        await _queues.PublishRawAsync(TopologyNames.DeadKey, JobCodec.Encode(job), properties);

        var show = await RunAsync("show", id);

        Assert.Equal(0, show.Exit);
        Assert.Contains("The body as written.", show.Out);
        Assert.Contains($"({raw.Length} bytes, the message submitted by SMTP", show.Out);
        Assert.DoesNotContain(Convert.ToBase64String(raw), show.Out);
    }

    [Fact]
    public async Task Replay_puts_the_job_back_with_attempts_reset_and_one_replay_and_removes_the_dead_letter()
    {
        var keep = await DeadLetterAsync("permanent", "SMTP 550 no", attempts: 1);
        var id = await DeadLetterAsync("transient", "SMTP 451 later", attempts: 4);

        var run = await RunAsync("replay", id);

        Assert.Equal(0, run.Exit);
        var back = (await _queues.WaitAndTakeAsync(Names.SendQueue, 1)).Single();
        Assert.Equal(id, back.Properties.MessageId);
        Assert.Equal(-1, back.IntHeader(JobHeaders.Attempts));
        Assert.Equal(1, back.IntHeader(JobHeaders.Replays));
        Assert.Equal("SMTP 451 later", back.Header(JobHeaders.LastError));
        Assert.Equal("2026-01-01T00:00:00.000Z", back.Header(JobHeaders.FirstFailedAt));
        Assert.Equal(DeliveryModes.Persistent, back.Properties.DeliveryMode);
        Assert.Equal([keep], (await _queues.TakeAsync(Names.DeadQueue)).Select(m => m.Properties.MessageId!));
    }

    [Fact]
    public async Task Replay_of_a_message_the_broker_dead_lettered_takes_its_kind_from_x_death()
    {
        var id = Guid.NewGuid().ToString();
        var death = new Dictionary<string, object?>
        {
            ["reason"] = "delivery_limit", ["queue"] = Names.SendQueue, ["count"] = 1L,
            ["time"] = new AmqpTimestamp(DateTimeOffset.UtcNow.ToUnixTimeSeconds()),
        };
        await _queues.PublishRawAsync(TopologyNames.DeadKey, JobCodec.Encode(Job(id)), new BasicProperties
        {
            MessageId = id, DeliveryMode = DeliveryModes.Persistent,
            Headers = new Dictionary<string, object?> { [JobHeaders.Death] = new List<object?> { death } },
        });

        var list = await RunAsync("list", "--json");
        var replay = await RunAsync("replay", "--all", "--kind", "delivery-limit");

        Assert.Contains("\"kind\":\"delivery-limit\"", list.Out);
        Assert.Equal(0, replay.Exit);
        var back = (await _queues.WaitAndTakeAsync(Names.SendQueue, 1)).Single();
        Assert.Equal("delivery-limit", back.Header(JobHeaders.FailureKind));
        Assert.Null(back.Header(JobHeaders.Death));
    }

    [Fact]
    public async Task Replay_whose_publish_is_refused_leaves_the_dead_letter_in_place_and_exits_1()
    {
        var id = await DeadLetterAsync("transient", "SMTP 451 later", attempts: 4);
        await using (var channel = await (await BrokerEnvironment.ConnectionAsync()).CreateChannelAsync())
            await channel.QueueDeleteAsync(Names.SendQueue, ifUnused: false, ifEmpty: false); // nothing to route to

        var run = await RunAsync("replay", id);

        Assert.Equal(1, run.Exit);
        Assert.Contains("unroutable", run.Err);
        Assert.Equal([id], (await _queues.TakeAsync(Names.DeadQueue)).Select(m => m.Properties.MessageId!));
    }

    [Fact]
    public async Task Export_then_delete_then_replay_from_the_file_restores_every_message()
    {
        var ids = new[]
        {
            await DeadLetterAsync("transient", "SMTP 451 later", attempts: 4),
            await DeadLetterAsync("permanent", "SMTP 550 no", attempts: 1),
        };
        var file = Path.Combine(Path.GetTempPath(), $"dlq-{Guid.NewGuid():N}.jsonl");
        try
        {
            Assert.Equal(0, (await RunAsync("export", "--out", file)).Exit);
            Assert.Equal(2, File.ReadAllLines(file).Length);
            Assert.Equal(2u, await _queues.CountAsync(Names.DeadQueue));

            Assert.Equal(0, (await RunAsync("delete", "--all", "--yes")).Exit);
            Assert.Equal(0u, await _queues.CountAsync(Names.DeadQueue));

            Assert.Equal(0, (await RunAsync("replay", "--from", file)).Exit);
            var back = await _queues.WaitAndTakeAsync(Names.SendQueue, 2);
            Assert.Equal(ids, back.Select(m => m.Properties.MessageId!));
            Assert.All(back, m => Assert.Equal(1, m.IntHeader(JobHeaders.Replays)));
            Assert.All(back, m => Assert.True(JobCodec.TryDecode(m.Body, out _, out _)));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task A_high_lane_dead_letter_is_listed_as_high_and_replayed_to_email_send_high()
    {
        var id = Guid.CreateVersion7().ToString();
        var job = Job(id) with { Priority = "high" };
        var properties = JobProperties.ForNewJob(job);
        properties.Headers![JobHeaders.Attempts] = 4;
        properties.Headers[JobHeaders.FailureKind] = "transient";
        await _queues.PublishRawAsync(TopologyNames.DeadKey, JobCodec.Encode(job), properties);

        var list = await RunAsync("list", "--json");
        var replay = await RunAsync("replay", id);

        Assert.Contains("\"lane\":\"high\"", list.Out);
        Assert.Equal(0, replay.Exit);
        Assert.Equal([id], (await _queues.WaitAndTakeAsync(Names.HighQueue, 1)).Select(m => m.Properties.MessageId!));
        Assert.Equal(0u, await _queues.CountAsync(Names.SendQueue));
    }

    [Fact]
    public async Task Suppressions_are_added_listed_and_removed_in_the_deployments_store()
    {
        var added = await RunAsync("suppressions", "add", "Gone <Gone@Example.COM>", "--reason", "mailbox closed (ticket 42)");
        var list = await RunAsync("suppressions", "list", "--json");
        var table = await RunAsync("suppressions", "list", "--source", "manual");
        var removed = await RunAsync("suppressions", "remove", "Gone@example.com");
        var again = await RunAsync("suppressions", "remove", "Gone@example.com", "not-an-address");
        var bad = await RunAsync("suppressions", "add", "a@example.com");

        Assert.Equal((0, "suppressed Gone@example.com (mailbox closed (ticket 42))"), (added.Exit, added.Out.Trim()));
        Assert.Contains("\"address\":\"Gone@example.com\",\"reason\":\"mailbox closed (ticket 42)\",\"source\":\"manual\",\"client\":null", list.Out);
        Assert.Contains("1 suppressed address(es)", table.Out);
        Assert.Equal(0, removed.Exit);
        Assert.Equal(3, again.Exit);
        Assert.Contains("Gone@example.com is not suppressed", again.Err);
        Assert.Contains("'not-an-address' is not one email address", again.Err);
        Assert.Equal(2, bad.Exit);
        Assert.Contains("--reason", bad.Err);
    }

    [Fact]
    public async Task Export_of_hundreds_keeps_queue_order()
    {
        // The dlq's connection dispatches deliveries concurrently (Worker:Concurrency); its DLQ reads must not.
        var ids = Enumerable.Range(0, 400).Select(_ => Guid.CreateVersion7().ToString()).ToList();
        await using (var channel = await (await BrokerEnvironment.ConnectionAsync()).CreateChannelAsync(
            new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true)))
        {
            foreach (var id in ids)
            {
                var properties = JobProperties.ForNewJob(Job(id));
                properties.Headers![JobHeaders.FailureKind] = "transient";
                await channel.BasicPublishAsync(Names.Exchange, TopologyNames.DeadKey, mandatory: true, properties, JobCodec.Encode(Job(id)));
            }
        }

        var run = await RunAsync("export");

        Assert.Equal(0, run.Exit);
        var exported = run.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => ExportFormat.FromLine(line, 0).Id).ToList();
        Assert.Equal(ids, exported);
    }

    [Fact]
    public async Task Reindex_rebuilds_the_consoles_index_from_the_queue_and_replay_and_delete_take_their_letters_out_of_it()
    {
        // Letters the broker dead-lettered by itself, or parked while the store was away: in the queue, not in the index.
        // (The domain is the first recipient's, example.com, not one named in the error.)
        var replayed = await DeadLetterAsync("transient", "SMTP 451 4.4.1 <bob@example.org>: timed out", attempts: 4);
        var deleted = await DeadLetterAsync("delivery-limit", "delivery limit reached", attempts: 0);
        var kept = await DeadLetterAsync("permanent", "SMTP 550 5.7.1 policy", attempts: 1);
        var store = new Notifications.Core.Store.SqliteJobStore(Microsoft.Extensions.Options.Options.Create(
            new Notifications.Core.Store.StoreOptions { Path = _store }));
        await store.IndexDeadLettersAsync([new Notifications.Core.Store.IndexedDeadLetter(
            new Notifications.Core.Store.DeadLetterEntry("gone-long-ago", "transient", "r", "k", "e", "", "", "", "", DateTimeOffset.UtcNow, 1, 0, "normal"),
            new Notifications.Core.Store.DeadLetterDetail(new Dictionary<string, string>(), "", false))], default);

        var run = await RunAsync("reindex");

        Assert.Equal(0, run.Exit);
        Assert.Contains("3 dead letter(s)", run.Out);
        Assert.Contains("1 entry of letters no longer there removed", run.Out);
        Assert.Equal(new[] { deleted, kept, replayed }.Order(), (await store.LoadDeadLettersAsync(default)).Select(e => e.Id).Order());
        var entry = (await store.GetDeadLetterAsync(replayed, default))!.Entry;
        Assert.Equal(("transient", "example.com", "SMTP 451 4.4.1 <<address>>: timed out"), (entry.Kind, entry.Domain, entry.Reason));
        await CountIsAsync(Names.DeadQueue, 3); // the queue is left as it was

        Assert.Equal(0, (await RunAsync("replay", replayed)).Exit);
        Assert.Equal(0, (await RunAsync("delete", deleted)).Exit);
        Assert.Equal([kept], (await store.LoadDeadLettersAsync(default)).Select(e => e.Id));
        Assert.Equal(2, (await RunAsync("reindex", "--queue", "webhook.dead")).Exit); // the console indexes email.dead only
        await store.DisposeAsync();
    }

    [Fact]
    public async Task Delete_all_without_a_terminal_refuses_unless_yes()
    {
        await DeadLetterAsync("poison", "garbage", attempts: 1);

        var refused = await RunAsync("delete", "--all");
        var declined = await DlqTool.RunAsync(["delete", "--all"], new StringWriter(), new StringWriter(), _settings,
            readLine: () => "no", isTerminal: true);

        Assert.Equal(2, refused.Exit);
        Assert.Contains("--yes", refused.Err);
        Assert.Equal(0, declined);
        Assert.Equal(1u, await _queues.CountAsync(Names.DeadQueue));
    }

    [Theory]
    [InlineData("")]
    [InlineData("frobnicate")]
    [InlineData("show")]
    [InlineData("replay")]
    [InlineData("replay an-id --all")]
    [InlineData("list --limit -3")]
    [InlineData("list --limit")]
    [InlineData("replay --all --kind weird")]
    [InlineData("export --nope")]
    [InlineData("delete --all --dry-run")]
    public async Task Usage_errors_exit_2_with_the_usage(string commandLine)
    {
        var run = await RunAsync(commandLine.Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(2, run.Exit);
        Assert.Contains("usage:", run.Err);
    }

    [Fact]
    public async Task Unreachable_broker_is_one_line_and_exit_1()
    {
        var output = new StringWriter();
        var error = new StringWriter();

        var exit = await DlqTool.RunAsync(["list", "--uri", "amqp://guest:secret@127.0.0.1:1/"], output, error, _settings);

        Assert.Equal(1, exit);
        var line = error.ToString().TrimEnd();
        Assert.StartsWith("dlq: broker unreachable at amqp://guest:***@127.0.0.1:1/", line);
        Assert.DoesNotContain('\n', line);
        Assert.DoesNotContain("secret", line);
    }

    [Fact]
    public async Task Wrong_prefix_is_reported_not_created()
    {
        var run = await DlqTool.RunAsync(["list", "--prefix", "nosuch."], new StringWriter(), new StringWriter(), _settings);
        Assert.Equal(1, run);
    }

    [Fact]
    public void Normalized_errors_keep_reply_codes_and_drop_addresses_and_numbers()
    {
        var a = FailureGroups.Normalize("SMTP 550 MailboxUnavailable: 5.1.1 <ann@example.com> unknown after 3 tries");
        var b = FailureGroups.Normalize("SMTP 550 MailboxUnavailable: 5.1.1 <bob@example.org> unknown after 12 tries");
        Assert.Equal(a, b);
        Assert.Contains("550", a);
        Assert.Contains("5.1.1", a);
        Assert.NotEqual(FailureGroups.Key("permanent", a), FailureGroups.Key("transient", a));
    }

    private async Task<string> DeadLetterAsync(string kind, string error, int attempts, string? client = null)
    {
        var id = Guid.CreateVersion7().ToString();
        var properties = JobProperties.ForNewJob(Job(id));
        if (client is not null)
            properties.Headers![JobHeaders.Client] = client;
        properties.Headers![JobHeaders.Attempts] = attempts;
        properties.Headers[JobHeaders.FailureKind] = kind;
        properties.Headers[JobHeaders.LastError] = error;
        properties.Headers[JobHeaders.FirstFailedAt] = "2026-01-01T00:00:00.000Z";
        properties.Headers[JobHeaders.LastFailedAt] = "2026-01-01T00:03:00.000Z";
        await _queues.PublishRawAsync(TopologyNames.DeadKey, JobCodec.Encode(Job(id)), properties);
        return id;
    }

    [Fact]
    public async Task The_unparsed_inbound_queue_is_listed_shown_with_its_raw_mail_and_reason_and_deleted()
    {
        var properties = new RabbitMQ.Client.BasicProperties
        {
            MessageId = Guid.CreateVersion7().ToString(),
            Type = Notifications.Core.Bounces.InboundHeaders.Type,
            ContentType = Notifications.Core.Bounces.InboundHeaders.ContentType,
            Headers = new Dictionary<string, object?>
            {
                [Notifications.Core.Bounces.InboundHeaders.Recipients] = "b+unknown.aaaaaaaaaa@bounces.example.com",
                [Notifications.Core.Bounces.InboundHeaders.Reason] = "no job matches it",
            },
        };
        await _queues.PublishRawAsync(TopologyNames.InboundUnparsedKey,
            System.Text.Encoding.ASCII.GetBytes("From: MAILER-DAEMON@mail.example.net\r\nSubject: Undelivered Mail\r\n\r\nSorry.\r\n"), properties);

        var list = await RunAsync("list", "--queue", "email.inbound.unparsed");
        Assert.Equal(0, list.Exit);
        Assert.Contains(properties.MessageId, list.Out);
        Assert.Contains("Undelivered Mail", list.Out);

        // A stranger's Subject with terminal escapes (retitle the window, clear the screen, ring the bell) is shown escaped.
        var hostile = new RabbitMQ.Client.BasicProperties { MessageId = Guid.CreateVersion7().ToString(), Type = properties.Type, Headers = properties.Headers };
        await _queues.PublishRawAsync(TopologyNames.InboundUnparsedKey, System.Text.Encoding.UTF8.GetBytes(
            "From: x@example.net\r\nSubject: =?utf-8?b?" + Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes("hi\u001b]0;owned\u0007\u001b[2J\u009b\u202Etxt")) + "?=\r\n\r\nx\r\n"),
            hostile);
        var escaped = await RunAsync("list", "--queue", "email.inbound.unparsed");
        Assert.Contains(hostile.MessageId, escaped.Out);
        Assert.DoesNotContain(escaped.Out, c => c is '\u001b' or '\u0007' or '\u009b' or '\u202E');
        Assert.Contains(@"hi\x1B]0;owned\x07\x1B[2J\x9B\u{202E}txt", escaped.Out);
        await RunAsync("delete", hostile.MessageId!, "--queue", "email.inbound.unparsed");
        var show = await RunAsync("show", properties.MessageId, "--queue", "email.inbound.unparsed", "--json");
        Assert.Equal(0, show.Exit);
        using (var shown = System.Text.Json.JsonDocument.Parse(show.Out))
        {
            Assert.Contains("Sorry.", shown.RootElement.GetProperty("message").GetString());
            Assert.Contains("no job matches it", show.Out);
        }
        // Replayed: back in email.inbound, to be read again (no worker here reads it).
        var replay = await RunAsync("replay", properties.MessageId, "--queue", "email.inbound.unparsed");
        Assert.Equal(0, replay.Exit);
        var again = Assert.Single(await _queues.WaitAndTakeAsync(Names.InboundQueue, 1));
        Assert.Contains("Sorry.", System.Text.Encoding.ASCII.GetString(again.Body));
        Assert.Equal("b+unknown.aaaaaaaaaa@bounces.example.com", again.Header(Notifications.Core.Bounces.InboundHeaders.Recipients));
        await _queues.PublishRawAsync(TopologyNames.InboundUnparsedKey, again.Body, properties);

        var delete = await RunAsync("delete", properties.MessageId, "--queue", "email.inbound.unparsed");
        Assert.Equal(0, delete.Exit);
        Assert.Equal(0u, await _queues.CountAsync(Names.InboundUnparsedQueue));
        Assert.Equal(2, (await RunAsync("list", "--queue", "email.inbox")).Exit);
    }

    private static EmailJob Job(string id) => new()
    {
        Id = id, CreatedAt = DateTimeOffset.UtcNow, From = "no-reply@example.com",
        To = ["alice@example.com"], Subject = "Order " + id[..8], Text = "hello",
    };

    private async Task<(int Exit, string Out, string Err)> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = await DlqTool.RunAsync(args, output, error, _settings, readLine: () => null, isTerminal: false);
        return (exit, output.ToString(), error.ToString());
    }
}
