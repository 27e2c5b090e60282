using Microsoft.Extensions.Options;
using Notifications.Core.Store;
using Notifications.Core.Suppressions;
using Notifications.Tests.Infrastructure;

namespace Notifications.Tests.Integration;

/// <summary>One contract, both stores, each for real: a SQLite file and a Redis server.</summary>
public abstract class JobStoreTests
{
    protected static readonly StoreOptions Options = new() { SendLease = TimeSpan.FromMilliseconds(500), Retention = TimeSpan.FromHours(1) };

    protected abstract Task<IJobStore> CreateAsync(StoreOptions options);

    private Task<IJobStore> CreateAsync() => CreateAsync(Options);

    [Fact]
    public async Task A_job_is_sent_once_whoever_asks()
    {
        var store = await CreateAsync();
        var other = await CreateAsync(); // another worker on the same store
        var id = Guid.NewGuid().ToString();

        Assert.Equal(SendClaim.Acquired, await store.TryStartSendAsync(id, default));
        Assert.Equal(SendClaim.InProgress, await other.TryStartSendAsync(id, default));
        await store.MarkSentAsync(id, Sent(id), default);
        Assert.Equal(SendClaim.AlreadySent, await other.TryStartSendAsync(id, default));
        Assert.Equal(SendClaim.AlreadySent, await store.TryStartSendAsync(id, default));
    }

    [Fact]
    public async Task A_scheduled_or_cancelled_status_is_kept_until_its_due_time_plus_the_retention_however_short_the_retention()
    {
        // Store:Retention is the subject: half a second here, against a job due two seconds ahead.
        var store = await CreateAsync(new StoreOptions { SendLease = Options.SendLease, Retention = TimeSpan.FromMilliseconds(500) });
        var (scheduled, queued) = (Guid.NewGuid().ToString(), Guid.NewGuid().ToString());
        var due = DateTimeOffset.UtcNow.AddSeconds(2);
        await store.SetStatusAsync(new JobStatus(scheduled, JobStatus.Scheduled, DateTimeOffset.UtcNow, Client: "tests", SendAt: due), default);
        await store.SetStatusAsync(new JobStatus(queued, JobStatus.Queued, DateTimeOffset.UtcNow, Client: "tests"), default);

        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.Null(await store.GetStatusAsync(queued, default));
        Assert.True(await store.TryChangeStatusAsync(new JobStatus(scheduled, JobStatus.Cancelled, DateTimeOffset.UtcNow, Client: "tests"),
            JobStatus.Scheduled, default));
        await Task.Delay(due.AddMilliseconds(200) - DateTimeOffset.UtcNow);
        // Due now: the worker taking it still learns it was cancelled.
        Assert.Equal(JobStatus.Cancelled, (await store.GetStatusAsync(scheduled, default))?.Status);
        Assert.False(await store.TryChangeStatusAsync(new JobStatus(scheduled, JobStatus.Queued, DateTimeOffset.UtcNow), JobStatus.Scheduled, default));
        await Task.Delay(due.AddMilliseconds(900) - DateTimeOffset.UtcNow);
        Assert.Null(await store.GetStatusAsync(scheduled, default));
    }

    [Fact]
    public async Task A_sent_status_remembers_who_was_mailed_through_later_states_that_do_not_say()
    {
        var store = await CreateAsync();
        var id = Guid.NewGuid().ToString();
        await store.MarkSentAsync(id, Sent(id) with { Mailed = ["bob@example.org", "Carol@example.org"] }, default);
        await store.SetStatusAsync(Sent(id) with { At = DateTimeOffset.UtcNow.AddSeconds(1) }, default); // a later write, e.g. a bounce recorded

        var status = await store.GetStatusAsync(id, default);
        Assert.True(status!.WasMailedTo("carol@example.org"));
        Assert.True(status.WasMailedTo("bob@example.org"));
        Assert.False(status.WasMailedTo("mallory@example.org"));
    }

    [Fact]
    public async Task Every_entry_of_an_address_is_found_together_and_a_clients_listing_holds_only_its_own()
    {
        var store = await CreateAsync();
        var address = $"bob{Guid.NewGuid():N}@example.org";
        var at = DateTimeOffset.UtcNow;
        await store.AddSuppressionAsync(new Suppression(address, "bounced: 5.1.1", Suppression.Bounce, "shop", at), default);
        await store.AddSuppressionAsync(new Suppression(address, "by hand", Suppression.Manual, "shop", at, Suppression.EveryList), default);
        await store.AddSuppressionAsync(new Suppression(address, "unsubscribed", Suppression.Unsubscribe, "news", at, "digest"), default);
        await store.AddSuppressionAsync(new Suppression(address + "x", "another address", Suppression.Manual, "shop", at, Suppression.EveryList), default);

        var entries = await store.GetSuppressionsOfAsync(address, default);
        Assert.Equal([(null, "shop"), ("*", "shop"), ("digest", "news")],
            entries.Select(e => (e.List, e.Client)).OrderBy(e => e.List ?? "").ToList());
        var news = await store.ListSuppressionsAsync(new SuppressionQuery(Client: "news", AddressContains: address), default);
        Assert.Equal(["digest"], news.Items.Select(e => e.List));
        Assert.True(await store.RemoveSuppressionAsync(SuppressedAddress.ListKey(address, "news", "digest"), default));
        Assert.Empty((await store.ListSuppressionsAsync(new SuppressionQuery(Client: "news", AddressContains: address), default)).Items);
    }

    protected static JobStatus Sent(string id) => new(id, JobStatus.Sent, DateTimeOffset.UtcNow, Attempt: 1, Client: "tests");

    [Fact]
    public async Task Marking_sent_records_the_sent_status_in_the_same_call()
    {
        var store = await CreateAsync();
        var id = Guid.NewGuid().ToString();
        await store.SetStatusAsync(new JobStatus(id, JobStatus.Queued, DateTimeOffset.UtcNow, Client: "tests"), default);
        await store.TryStartSendAsync(id, default);

        await store.MarkSentAsync(id, Sent(id), default);

        Assert.Equal(SendClaim.AlreadySent, await store.TryStartSendAsync(id, default));
        var status = await store.GetStatusAsync(id, default);
        Assert.Equal(("sent", 1, "tests"), (status!.Status, status.Attempt, status.Client));
    }

    [Fact]
    public async Task A_released_claim_lets_the_next_delivery_try()
    {
        var store = await CreateAsync();
        var id = Guid.NewGuid().ToString();
        await store.TryStartSendAsync(id, default);

        await store.ReleaseSendAsync(id, default);

        Assert.Equal(SendClaim.Acquired, await store.TryStartSendAsync(id, default));
    }

    [Fact]
    public async Task A_claim_of_a_worker_that_died_lapses_after_the_lease()
    {
        var store = await CreateAsync();
        var id = Guid.NewGuid().ToString();
        await store.TryStartSendAsync(id, default);

        var claim = await Eventually.ReturnsAsync(() => store.TryStartSendAsync(id, default), c => c == SendClaim.Acquired,
            "the lease to run out", TimeSpan.FromSeconds(5));

        Assert.Equal(SendClaim.Acquired, claim);
    }

    [Fact]
    public async Task A_worker_gives_up_only_its_own_claim()
    {
        var store = await CreateAsync();
        var other = await CreateAsync();
        var id = Guid.NewGuid().ToString();
        await store.TryStartSendAsync(id, default);

        await other.ReleaseSendAsync(id, default); // not its claim

        Assert.Equal(SendClaim.InProgress, await other.TryStartSendAsync(id, default));
    }

    [Fact]
    public async Task Marking_sent_is_final_even_after_a_release()
    {
        var store = await CreateAsync();
        var id = Guid.NewGuid().ToString();
        await store.MarkSentAsync(id, Sent(id), default);
        await store.ReleaseSendAsync(id, default);
        Assert.Equal(SendClaim.AlreadySent, await store.TryStartSendAsync(id, default));
    }

    [Fact]
    public async Task An_idempotency_key_belongs_to_one_request()
    {
        var store = await CreateAsync();
        var key = Guid.NewGuid().ToString();

        Assert.True(await store.TryRememberIdempotencyKeyAsync(key, "hash-a", default));
        Assert.True(await store.TryRememberIdempotencyKeyAsync(key, "hash-a", default));
        Assert.False(await store.TryRememberIdempotencyKeyAsync(key, "hash-b", default));
    }

    [Fact]
    public async Task A_renewed_claim_outlives_its_lease_and_lapses_once_renewals_stop()
    {
        // A lease long enough that a busy machine's late timer does not let it lapse between two renewals.
        var options = new StoreOptions { SendLease = TimeSpan.FromSeconds(3), Retention = Options.Retention };
        var store = await CreateAsync(options);
        var other = await CreateAsync(options);
        var id = Guid.NewGuid().ToString();
        await store.TryStartSendAsync(id, default);

        // Two leases long, renewed every third of one: nobody else may take it meanwhile.
        for (var i = 0; i < 6; i++)
        {
            await Task.Delay(options.SendLease / 3);
            Assert.True(await store.RenewSendAsync(id, default));
            Assert.Equal(SendClaim.InProgress, await other.TryStartSendAsync(id, default));
        }

        Assert.False(await other.RenewSendAsync(id, default)); // not its claim
        var claim = await Eventually.ReturnsAsync(() => other.TryStartSendAsync(id, default), c => c == SendClaim.Acquired,
            "the lease to run out once renewals stop", TimeSpan.FromSeconds(10));
        Assert.Equal(SendClaim.Acquired, claim);
        Assert.False(await store.RenewSendAsync(id, default)); // lost it to the other worker
    }

    [Fact]
    public async Task A_worker_waits_while_another_still_renews_its_claim_and_takes_it_over_only_once_the_renewals_stopped()
    {
        var options = new StoreOptions { SendLease = TimeSpan.FromSeconds(2), Retention = Options.Retention };
        var holderStore = await CreateAsync(options);
        var waiterStore = await CreateAsync(options);
        var holder = new Notifications.Worker.Claims.SendGuard(holderStore, new Notifications.Worker.Claims.SentLedger(),
            Microsoft.Extensions.Options.Options.Create(options), TimeProvider.System,
            Microsoft.Extensions.Logging.Abstractions.NullLogger<Notifications.Worker.Claims.SendGuard>.Instance);
        var waiter = new Notifications.Worker.Claims.SendGuard(waiterStore, new Notifications.Worker.Claims.SentLedger(),
            Microsoft.Extensions.Options.Options.Create(options), TimeProvider.System,
            Microsoft.Extensions.Logging.Abstractions.NullLogger<Notifications.Worker.Claims.SendGuard>.Instance);
        using var stop = new CancellationTokenSource();
        var renewing = holder.RenewWhileSendingAsync(stop.Token);
        var id = Guid.NewGuid().ToString();
        Assert.Equal(SendClaim.Acquired, await holder.ClaimAsync(id, default));
        var sending = holder.KeepClaim(id); // a send slower than several leases, still renewing

        var claiming = waiter.ClaimAsync(id, default);
        await Task.Delay(options.SendLease * 3);
        Assert.False(claiming.IsCompleted, "the other worker took over a claim that was still being renewed");

        sending.Dispose(); // the holder stops renewing (it died, or its send ended without a word)
        var claim = await claiming.WaitAsync(TimeSpan.FromSeconds(15));
        Assert.Equal(SendClaim.Acquired, claim);
        await stop.CancelAsync();
        await renewing;
    }

    [Fact]
    public async Task Of_a_cancel_and_a_worker_taking_a_scheduled_job_at_once_exactly_one_wins()
    {
        var store = await CreateAsync();
        var other = await CreateAsync();
        for (var round = 0; round < 20; round++)
        {
            var id = Guid.NewGuid().ToString();
            await store.SetStatusAsync(new JobStatus(id, JobStatus.Scheduled, DateTimeOffset.UtcNow, Client: "c"), default);

            var results = await Task.WhenAll(
                store.TryChangeStatusAsync(new JobStatus(id, JobStatus.Cancelled, DateTimeOffset.UtcNow), JobStatus.Scheduled, default),
                other.TryChangeStatusAsync(new JobStatus(id, JobStatus.Queued, DateTimeOffset.UtcNow), JobStatus.Scheduled, default));

            Assert.Single(results, won => won);
            var final = await store.GetStatusAsync(id, default);
            Assert.Equal(results[0] ? JobStatus.Cancelled : JobStatus.Queued, final?.Status);
            Assert.Equal("c", final?.Client); // kept when the writer did not know it
        }
        Assert.False(await store.TryChangeStatusAsync(new JobStatus("nope", JobStatus.Cancelled, DateTimeOffset.UtcNow), JobStatus.Scheduled, default));
    }

    [Fact]
    public async Task A_status_is_ordered_by_the_jobs_life_not_by_the_clocks_that_wrote_it()
    {
        var store = await CreateAsync();
        var id = Guid.NewGuid().ToString();
        var apiClock = DateTimeOffset.UtcNow;
        var workerClock = apiClock.AddSeconds(-30); // the worker's host runs 30 s behind the API's

        Assert.Null(await store.GetStatusAsync(id, default));
        await store.SetStatusAsync(new JobStatus(id, JobStatus.Retrying, workerClock.AddSeconds(1), Attempt: 1, Error: "SMTP 451"), default);
        await store.SetStatusAsync(new JobStatus(id, JobStatus.Queued, apiClock), default); // arrives late
        var retrying = await store.GetStatusAsync(id, default);
        await store.SetStatusAsync(new JobStatus(id, JobStatus.Sent, workerClock.AddSeconds(2), Attempt: 2), default);
        await store.SetStatusAsync(new JobStatus(id, JobStatus.Retrying, workerClock.AddSeconds(3), Attempt: 1, Error: "late"), default);
        var sent = await store.GetStatusAsync(id, default);

        Assert.Equal(("retrying", 1, "SMTP 451"), (retrying!.Status, retrying.Attempt, retrying.Error));
        Assert.Equal(("sent", 2, (string?)null), (sent!.Status, sent.Attempt, sent.Error));
        Assert.Equal(workerClock.AddSeconds(2).ToUnixTimeMilliseconds(), sent.At.ToUnixTimeMilliseconds());
    }

    [Fact]
    public async Task A_replay_starts_a_new_round_that_an_old_rounds_late_event_cannot_overwrite()
    {
        var store = await CreateAsync();
        var id = Guid.NewGuid().ToString();
        var t0 = DateTimeOffset.UtcNow;

        await store.SetStatusAsync(new JobStatus(id, JobStatus.Dead, t0, Attempt: 4, Kind: "transient", Error: "SMTP 451"), default);
        await store.SetStatusAsync(new JobStatus(id, JobStatus.Replayed, t0.AddSeconds(1), Replays: 1), default);
        var replayed = await store.GetStatusAsync(id, default);
        await store.SetStatusAsync(new JobStatus(id, JobStatus.Retrying, t0.AddSeconds(2), Attempt: 1, Error: "SMTP 451", Replays: 1), default);
        await store.SetStatusAsync(new JobStatus(id, JobStatus.Dead, t0.AddSeconds(3), Attempt: 4, Kind: "transient"), default); // round 0, twice
        var retrying = await store.GetStatusAsync(id, default);

        Assert.Equal(("replayed", 1), (replayed!.Status, replayed.Replays));
        Assert.Equal(("retrying", 1, 1), (retrying!.Status, retrying.Attempt, retrying.Replays));
    }

    [Fact]
    public async Task A_status_keeps_its_rejected_suppressed_and_deferred_recipients()
    {
        var store = await CreateAsync();
        var id = Guid.NewGuid().ToString();
        var outcomes = new RecipientOutcomes(
            Rejected: [new RefusedRecipient("gone@example.com", "550 5.1.1 user unknown")],
            Suppressed: ["old@example.com"],
            Deferred: [new RefusedRecipient("busy@example.com", "451 4.2.1 try later", id + "-r1")]);

        await store.SetStatusAsync(new JobStatus(id, JobStatus.Sent, DateTimeOffset.UtcNow, Attempt: 1, Recipients: outcomes), default);

        var status = await store.GetStatusAsync(id, default);
        Assert.Equal(outcomes.ToJson(), status!.Recipients!.ToJson());
    }

    [Fact]
    public async Task Suppressions_are_found_for_a_whole_job_in_one_call_and_added_twice_stay_one()
    {
        var store = await CreateAsync();
        var at = DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        var gone = new Suppression($"gone-{Guid.NewGuid():N}@example.com", "550 5.1.1 user unknown", Suppression.Bounce, "shop", at);

        await store.AddSuppressionAsync(gone, default);
        await store.AddSuppressionAsync(gone with { Reason = "550 5.1.1 still unknown" }, default);
        var found = await store.FindSuppressionsAsync([gone.Address, "alive@example.com"], default);

        Assert.Equal([gone.Address], found.Keys);
        Assert.Equal(gone with { Reason = "550 5.1.1 still unknown" }, found[gone.Address]);
        Assert.Equal(found[gone.Address], await store.GetSuppressionAsync(gone.Address, default));
        Assert.True(await store.RemoveSuppressionAsync(gone.Address, default));
        Assert.False(await store.RemoveSuppressionAsync(gone.Address, default));
        Assert.Null(await store.GetSuppressionAsync(gone.Address, default));
        Assert.Empty(await store.FindSuppressionsAsync([gone.Address], default));
    }

    [Fact]
    public async Task The_suppression_list_pages_by_cursor_in_address_order_and_filters_by_source_reason_and_client()
    {
        var store = await CreateAsync();
        var tag = Guid.NewGuid().ToString("N")[..8];
        var entries = Enumerable.Range(0, 7).Select(i => new Suppression($"{tag}-{i}@example.com", i % 2 == 0 ? "550 5.1.1 user unknown" : "unsubscribed",
            i % 2 == 0 ? Suppression.Bounce : Suppression.Manual, i < 3 ? "shop" : "billing", DateTimeOffset.UtcNow)).ToList();
        foreach (var entry in entries.AsEnumerable().Reverse())
            await store.AddSuppressionAsync(entry, default);

        var seen = new List<string>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var page = await store.ListSuppressionsAsync(new SuppressionQuery(cursor, Limit: 3), default);
            seen.AddRange(page.Items.Select(e => e.Address).Where(a => a.StartsWith(tag, StringComparison.Ordinal)));
            cursor = page.Next;
            pages++;
        }
        while (cursor is not null && pages < 1_000);
        var bounces = await store.ListSuppressionsAsync(new SuppressionQuery(Limit: 1_000, Source: Suppression.Bounce, Client: "shop"), default);
        var unsubscribed = await store.ListSuppressionsAsync(new SuppressionQuery(Limit: 1_000, ReasonContains: "UNSUBSCRIBED"), default);

        Assert.Equal(entries.Select(e => e.Address), seen);
        Assert.Equal([$"{tag}-0@example.com", $"{tag}-2@example.com"], bounces.Items.Select(e => e.Address).Where(a => a.StartsWith(tag, StringComparison.Ordinal)));
        Assert.Equal(3, unsubscribed.Items.Count(e => e.Address.StartsWith(tag, StringComparison.Ordinal)));
    }
    [Fact]
    public async Task Reputation_counts_each_event_once_over_the_last_window_of_recipients_and_a_pause_lasts_until_a_resume_starts_afresh()
    {
        var store = await CreateAsync(Options);
        var client = "c" + Guid.NewGuid().ToString("N")[..8];

        var state = await store.RecordReputationAsync(client, 10,
            [ReputationEvent.Bounce("j1", "a@example.org"), ReputationEvent.Bounce("j1", "A@example.org"), ReputationEvent.ComplaintOf("j2", "b@example.org")],
            window: 20, default);
        Assert.Equal((10L, 1, 1, 10L), (state.Sent, state.Bounces, state.Complaints, state.Judged));
        state = await store.RecordReputationAsync(client, 0, [ReputationEvent.Bounce("j1", "a@example.org")], 20, default);
        Assert.Equal(1, state.Bounces); // a report read twice counts once
        Assert.Equal(0.1, state.BounceRate, 3);

        // Twenty recipients later, what came at the tenth is out of the window of the last twenty.
        state = await store.RecordReputationAsync(client, 19, [], 20, default);
        Assert.Equal((29L, 1, 1), (state.Sent, state.Bounces, state.Complaints));
        state = await store.RecordReputationAsync(client, 1, [], 20, default);
        Assert.Equal((30L, 0, 0, 20L), (state.Sent, state.Bounces, state.Complaints, state.Judged));

        var at = DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        Assert.True(await store.PauseClientAsync(client, "hard-bounce rate too high", at, default));
        Assert.False(await store.PauseClientAsync(client, "again", at.AddSeconds(1), default));
        state = await store.RecordReputationAsync(client, 0, [], 20, default);
        Assert.Equal((at, "hard-bounce rate too high"), (state.PausedAt, state.PausedReason));

        Assert.True(await store.ResumeClientAsync(client, default));
        state = await store.RecordReputationAsync(client, 0, [], 20, default);
        Assert.Equal((false, 0L), (state.Paused, state.Sent));
        Assert.False(await store.ResumeClientAsync(client, default));
        Assert.False((await store.RecordReputationAsync("other" + client, 0, [], 20, default)).Paused);
    }

    private static Notifications.Core.Store.IndexedDeadLetter Dead(string id, string domain, DateTimeOffset at) => new(
        new Notifications.Core.Store.DeadLetterEntry(id, "transient", "SMTP 451 4.4.1 <address>: timed out", "abcd1234",
            $"SMTP 451 4.4.1 <bob@{domain}>: timed out", "tests", domain, $"bob@{domain}", "Your invoice", at, 4, 0, "normal"),
        new Notifications.Core.Store.DeadLetterDetail(new Dictionary<string, string> { ["x-attempts"] = "4" }, "{\"id\":\"" + id + "\"}", false));

    [Fact]
    public async Task The_dead_letter_index_adds_replaces_removes_and_moves_its_version_with_every_change()
    {
        var store = await CreateAsync();
        var reader = await CreateAsync(); // the API's store, another process
        var at = DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        var start = await reader.DeadLetterIndexVersionAsync(default);

        await store.IndexDeadLettersAsync([Dead("a", "one.example", at), Dead("b", "two.example", at)], default);
        var afterAdd = await reader.DeadLetterIndexVersionAsync(default);
        Assert.NotEqual(start, afterAdd);
        Assert.Equal(["a", "b"], (await reader.LoadDeadLettersAsync(default)).Select(e => e.Id).Order());

        await store.IndexDeadLettersAsync([Dead("a", "three.example", at)], default); // parked again: replaced, not doubled
        Assert.Equal(["three.example", "two.example"], (await reader.LoadDeadLettersAsync(default)).Select(e => e.Domain).Order());
        var one = await reader.GetDeadLetterAsync("a", default);
        Assert.Equal(at, one!.Entry.DiedAt);
        Assert.Equal("4", one.Detail.Headers["x-attempts"]);
        Assert.Equal("{\"id\":\"a\"}", one.Detail.Body);

        await store.RemoveDeadLettersAsync(["a", "nosuch"], default);
        Assert.NotEqual(afterAdd, await reader.DeadLetterIndexVersionAsync(default));
        Assert.Equal(["b"], (await reader.LoadDeadLettersAsync(default)).Select(e => e.Id));
        Assert.Null(await reader.GetDeadLetterAsync("a", default));
    }

    [Fact]
    public async Task A_status_that_comes_late_does_not_overwrite_a_later_one()
    {
        var store = await CreateAsync();
        var id = Guid.NewGuid().ToString();
        var now = DateTimeOffset.UtcNow;
        await store.SetStatusAsync(new JobStatus(id, JobStatus.Queued, now, Client: "tests"), default);
        await store.SetStatusAsync(new JobStatus(id, JobStatus.Retrying, now.AddSeconds(1), Attempt: 1, Error: "SMTP 451 later"), default);
        await store.MarkSentAsync(id, new JobStatus(id, JobStatus.Sent, now.AddSeconds(2), Attempt: 2), default);
        await store.SetStatusAsync(new JobStatus(id, JobStatus.Retrying, now.AddSeconds(1), Attempt: 1, Error: "late twin"), default);

        // The timeline of every status is the message log's (MessageLogStoreTests); the store keeps the latest in the job's life.
        Assert.Equal(JobStatus.Sent, (await store.GetStatusAsync(id, default))!.Status); // the late one did not change the status
        Assert.Equal(2, (await store.GetStatusAsync(id, default))!.Attempt);
    }
}

public sealed class SqliteJobStoreTests : JobStoreTests
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), "notifications-tests", $"store-{Guid.NewGuid():N}.db");

    protected override Task<IJobStore> CreateAsync(StoreOptions options)
    {
        var withPath = new StoreOptions { Path = _path, SendLease = options.SendLease, Retention = options.Retention };
        return Task.FromResult<IJobStore>(new SqliteJobStore(Microsoft.Extensions.Options.Options.Create(withPath)));
    }

    [Fact]
    public async Task Concurrent_writes_of_two_processes_all_commit_and_each_is_seen_once_its_call_returns()
    {
        // Two stores on one file, as the API and the worker of one host: each commits its waiting writes together.
        await using var worker = (SqliteJobStore)await CreateAsync(Options);
        await using var api = (SqliteJobStore)await CreateAsync(Options);
        var ids = Enumerable.Range(0, 400).Select(_ => Guid.NewGuid().ToString()).ToList();

        var claims = await Task.WhenAll(ids.Select(id => worker.TryStartSendAsync(id, default)));
        await Task.WhenAll(ids.Select(async id =>
        {
            await api.SetStatusAsync(new JobStatus(id, JobStatus.Queued, DateTimeOffset.UtcNow, Client: "tests"), default);
            await worker.MarkSentAsync(id, Sent(id), default);
            // Returned means committed: another connection sees it at once.
            Assert.Equal(JobStatus.Sent, (await api.GetStatusAsync(id, default))?.Status);
        }));

        Assert.All(claims, claim => Assert.Equal(SendClaim.Acquired, claim));
        var again = await Task.WhenAll(ids.Select(id => api.TryStartSendAsync(id, default)));
        Assert.All(again, claim => Assert.Equal(SendClaim.AlreadySent, claim));
    }

    [Fact]
    public async Task A_failing_write_fails_alone_and_the_writes_committed_with_it_stand()
    {
        await using var store = (SqliteJobStore)await CreateAsync(Options);
        var ids = Enumerable.Range(0, 50).Select(_ => Guid.NewGuid().ToString()).ToList();
        // A status the table refuses (NOT NULL status) among good writes queued at the same moment.
        var bad = store.SetStatusAsync(new JobStatus(Guid.NewGuid().ToString(), null!, DateTimeOffset.UtcNow), default);
        var good = ids.Select(id => store.SetStatusAsync(new JobStatus(id, JobStatus.Queued, DateTimeOffset.UtcNow), default)).ToList();

        await Assert.ThrowsAsync<Microsoft.Data.Sqlite.SqliteException>(() => bad);
        await Task.WhenAll(good);
        foreach (var id in ids)
            Assert.Equal(JobStatus.Queued, (await store.GetStatusAsync(id, default))?.Status);
    }

    [Fact]
    public async Task A_write_cancelled_before_its_turn_is_not_written()
    {
        await using var store = (SqliteJobStore)await CreateAsync(Options);
        var id = Guid.NewGuid().ToString();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            store.SetStatusAsync(new JobStatus(id, JobStatus.Queued, DateTimeOffset.UtcNow), new CancellationToken(canceled: true)));
        await store.SetStatusAsync(new JobStatus("after", JobStatus.Queued, DateTimeOffset.UtcNow), default); // the writer goes on

        Assert.Null(await store.GetStatusAsync(id, default));
        Assert.NotNull(await store.GetStatusAsync("after", default));
    }

    [Fact]
    public async Task Writes_asked_for_before_disposal_are_committed_and_later_ones_refused()
    {
        var store = (SqliteJobStore)await CreateAsync(Options);
        var ids = Enumerable.Range(0, 100).Select(_ => Guid.NewGuid().ToString()).ToList();
        var writes = ids.Select(id => store.SetStatusAsync(new JobStatus(id, JobStatus.Queued, DateTimeOffset.UtcNow), default)).ToList();

        await store.DisposeAsync();

        await Task.WhenAll(writes);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => store.SetStatusAsync(new JobStatus("late", JobStatus.Queued, DateTimeOffset.UtcNow), default));
        var reader = await CreateAsync(Options);
        foreach (var id in ids)
            Assert.Equal(JobStatus.Queued, (await reader.GetStatusAsync(id, default))?.Status);
    }
}

public sealed class RedisJobStoreTests : JobStoreTests
{
    private readonly string _prefix = $"t{Guid.NewGuid():N}:";

    protected override async Task<IJobStore> CreateAsync(StoreOptions options) =>
        new RedisJobStore(await RedisEnvironment.ConnectionAsync(), Microsoft.Extensions.Options.Options.Create(options), _prefix);
}
