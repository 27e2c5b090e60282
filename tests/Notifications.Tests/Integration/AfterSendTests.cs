using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.DependencyInjection;
using Notifications.Contracts;
using Notifications.Core.Broker;
using Notifications.Core.Events;
using Notifications.Core.Store;
using Notifications.Tests.Infrastructure;

namespace Notifications.Tests.Integration;

/// <summary>After the relay's 250 the job is sent: nothing that fails afterwards sends it again or reports it retrying.</summary>
public sealed class AfterSendTests
{
    [Fact]
    public async Task A_store_that_throws_on_MarkSent_and_an_EmailSent_that_times_out_still_mail_once_and_end_sent()
    {
        var statuses = new ConcurrentQueue<string>();
        var events = new ConcurrentQueue<string>();
        await using var pipeline = await Pipeline.StartAsync(workerServices: services =>
        {
            services.Decorate<ISendClaims>(inner => new MarkSentFailsOnce(inner, statuses));
            services.Decorate<IJobStatuses>(inner => new RecordingStatuses(inner, statuses));
            services.Decorate<IOutcomeEvents>(inner => new SentEventTimesOut(inner, events, failures: 2));
        });

        var id = await Jobs.PostAndGetIdAsync(pipeline.Http, Jobs.Valid("Sent once"));

        var store = pipeline.ApiServices.GetRequiredService<IJobStatuses>();
        var final = await Eventually.ReturnsAsync(() => store.GetStatusAsync(id, CancellationToken.None),
            s => s?.Status == JobStatus.Sent, "the job's status sent");
        await Eventually.TrueAsync(() => events.Contains(nameof(EmailSent)), "EmailSent once its publish goes through");
        await Eventually.ReturnsAsync(() => pipeline.Queues.CountAsync(pipeline.Names.SendQueue), n => n == 0, "the job acked");

        Assert.Single(pipeline.Relay.Accepted);
        Assert.Single(pipeline.Relay.Attempts);
        Assert.Equal(1, final!.Attempt);
        Assert.DoesNotContain(JobStatus.Retrying, statuses);
        Assert.DoesNotContain(nameof(EmailRetryScheduled), events);
        Assert.DoesNotContain(nameof(EmailDeadLettered), events);
        for (var attempt = 1; attempt <= 3; attempt++)
            Assert.Equal(0u, await pipeline.Queues.CountAsync(pipeline.Names.RetryQueue(attempt)));
        Assert.Equal(0u, await pipeline.Queues.CountAsync(pipeline.Names.DeadQueue));
    }

    [Fact]
    public async Task A_sent_job_redelivered_after_its_recipient_was_suppressed_stays_sent_and_is_not_reported_suppressed()
    {
        var events = new ConcurrentQueue<string>();
        var failing = new StrongBox<bool>(true);
        await using var pipeline = await Pipeline.StartAsync(workerServices: services =>
            services.Decorate<IOutcomeEvents>(inner => new SentEventTimesOut(inner, events, failures: int.MaxValue, failing)));

        var id = await Jobs.PostAndGetIdAsync(pipeline.Http, Jobs.Valid("sent, then its recipient suppressed"));
        await Eventually.TrueAsync(() => pipeline.Relay.Accepted.Count == 1, "the mail at the relay");
        using (var put = await pipeline.Http.PutAsJsonAsync("/api/suppressions/alice@example.com", new { reason = "asked to stop" }))
            Assert.True(put.IsSuccessStatusCode, await put.Content.ReadAsStringAsync());
        await pipeline.StopWorkerAsync(); // the job, held while its EmailSent fails, goes back to the queue
        failing.Value = false;
        await pipeline.StartWorkerAsync(); // a new process: no memory of the send but the store's

        await Eventually.TrueAsync(() => events.Contains(nameof(EmailSent)), "EmailSent from the redelivery");
        await Eventually.ReturnsAsync(() => pipeline.Queues.CountAsync(pipeline.Names.SendQueue), n => n == 0, "the job acked");
        var status = await pipeline.ApiServices.GetRequiredService<IJobStatuses>().GetStatusAsync(id, CancellationToken.None);
        Assert.Equal(JobStatus.Sent, status?.Status);
        Assert.DoesNotContain(nameof(EmailSuppressed), events);
        Assert.Single(pipeline.Relay.Accepted);
    }

    private sealed class MarkSentFailsOnce(ISendClaims inner, ConcurrentQueue<string> statuses) : ISendClaims
    {
        private int _calls;

        public Task<SendClaim> TryStartSendAsync(string jobId, CancellationToken cancellationToken) => inner.TryStartSendAsync(jobId, cancellationToken);

        public Task<bool> RenewSendAsync(string jobId, CancellationToken cancellationToken) => inner.RenewSendAsync(jobId, cancellationToken);

        public Task MarkSentAsync(string jobId, JobStatus sent, CancellationToken cancellationToken)
        {
            // Not a store failure the worker knows: a bug, say, after the relay already accepted the mail.
            if (Interlocked.Increment(ref _calls) == 1)
                throw new InvalidOperationException("the sent marker could not be written (a test's failing store)");
            statuses.Enqueue(sent.Status);
            return inner.MarkSentAsync(jobId, sent, cancellationToken);
        }

        public Task ReleaseSendAsync(string jobId, CancellationToken cancellationToken) => inner.ReleaseSendAsync(jobId, cancellationToken);
    }

    private sealed class RecordingStatuses(IJobStatuses inner, ConcurrentQueue<string> statuses) : IJobStatuses
    {
        public Task SetStatusAsync(JobStatus status, CancellationToken cancellationToken)
        {
            statuses.Enqueue(status.Status);
            return inner.SetStatusAsync(status, cancellationToken);
        }

        public Task<JobStatus?> GetStatusAsync(string jobId, CancellationToken cancellationToken) => inner.GetStatusAsync(jobId, cancellationToken);

        public Task<int> EraseAddressAsync(string address, CancellationToken cancellationToken) => inner.EraseAddressAsync(address, cancellationToken);


        public Task<bool> TryChangeStatusAsync(JobStatus status, string expected, CancellationToken cancellationToken)
        {
            statuses.Enqueue(status.Status);
            return inner.TryChangeStatusAsync(status, expected, cancellationToken);
        }
    }

    /// <summary>EmailSent's first <paramref name="failures"/> publishes get no confirm in time, as in a broker that is slow to answer.</summary>
    private sealed class SentEventTimesOut(IOutcomeEvents inner, ConcurrentQueue<string> published, int failures, StrongBox<bool>? failing = null)
        : IOutcomeEvents
    {
        private int _sent;

        public async Task PublishAsync<T>(T outcome, CancellationToken cancellationToken) where T : class
        {
            if (outcome is EmailSent && (failing?.Value ?? true) && Interlocked.Increment(ref _sent) <= failures)
            {
                published.Enqueue("failed " + typeof(T).Name);
                throw new PublishFailedException("EmailSent event not confirmed: no confirm from the broker within 5000 ms", mayHaveArrived: true);
            }
            await inner.PublishAsync(outcome, cancellationToken);
            published.Enqueue(typeof(T).Name);
        }
    }
}
