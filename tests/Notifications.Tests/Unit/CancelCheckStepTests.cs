using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Notifications.Core.Contract;
using Notifications.Core.Store;
using Notifications.Core.Topology;
using Notifications.Worker.Consuming;
using Notifications.Worker.SendPath;
using Notifications.Tests.Infrastructure;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using Notifications.Worker.Transport;

namespace Notifications.Tests.Unit;

/// <summary>The cancel check alone: a store that does not answer holds a scheduled job; it is never sent unchecked.</summary>
public sealed class CancelCheckStepTests
{
    private static SendContext Scheduled(string id, CancellationToken holdsAborted = default)
    {
        var properties = new BasicProperties { MessageId = id, Headers = new Dictionary<string, object?> { [JobHeaders.SendAt] = "2026-12-07T12:00:00Z" } };
        var args = new BasicDeliverEventArgs("consumer", 1, false, "notifications", "email.send", properties, ReadOnlyMemory<byte>.Empty);
        return new SendContext(new Delivery(args, null!, Lane.Normal, NullLogger.Instance), holdsAborted, default)
        {
            Job = new EmailJob { Id = id, CreatedAt = DateTimeOffset.UtcNow, From = "no-reply@example.com", To = ["bob@example.org"], Subject = "s", Text = "t", Client = "tests" },
        };
    }

    [Fact]
    public async Task A_store_that_does_not_answer_holds_the_job_and_it_goes_on_only_once_the_store_says_not_cancelled()
    {
        var clock = new FakeTimeProvider();
        var store = new FlakyStatuses { FailuresLeft = 3 };
        var step = new CancelCheckStep(store, clock, NullLogger<CancelCheckStep>.Instance);
        var context = Scheduled("job-1");
        var went = false;

        var run = step.RunAsync(context, _ => { went = true; return Task.CompletedTask; });
        // Time moves only here: a second at a time until the store answered (its pauses: 1, 2, 4 s).
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!run.IsCompleted && DateTime.UtcNow < deadline)
        {
            Assert.True(!went || store.Asked > 3, "went on before the store answered");
            clock.Advance(TimeSpan.FromSeconds(1));
            await Task.Delay(10);
        }
        await run.WaitAsync(TimeSpan.FromSeconds(5));

        Assert.True(went);
        Assert.Null(context.Outcome);
        Assert.Equal(4, store.Asked);
    }

    [Fact]
    public async Task A_job_whose_cancel_the_store_cannot_confirm_goes_back_to_the_queue_when_the_worker_stops()
    {
        using var stopping = new CancellationTokenSource();
        var store = new FlakyStatuses { FailuresLeft = int.MaxValue };
        var step = new CancelCheckStep(store, new FakeTimeProvider(), NullLogger<CancelCheckStep>.Instance);
        var context = Scheduled("job-2", stopping.Token);

        var run = step.RunAsync(context, _ => throw new InvalidOperationException("sent unchecked"));
        await Eventually.TrueAsync(() => store.Asked > 0, "the first ask");
        await stopping.CancelAsync();
        await run.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.IsType<JobOutcome.Returned>(context.Outcome);
    }

    [Fact]
    public async Task A_cancelled_job_ends_as_cancelled()
    {
        var store = new FlakyStatuses { Cancelled = true };
        var context = Scheduled("job-3");

        await new CancelCheckStep(store, new FakeTimeProvider(), NullLogger<CancelCheckStep>.Instance)
            .RunAsync(context, _ => throw new InvalidOperationException("a cancelled job was sent"));

        Assert.IsType<JobOutcome.Cancelled>(context.Outcome);
    }

    private sealed class FlakyStatuses : IJobStatuses
    {
        public int FailuresLeft;
        public bool Cancelled;
        public int Asked;

        public Task<bool> TryChangeStatusAsync(JobStatus status, string expected, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref Asked);
            if (FailuresLeft-- > 0)
                throw new TimeoutException("the store did not answer");
            return Task.FromResult(!Cancelled);
        }

        public Task<JobStatus?> GetStatusAsync(string jobId, CancellationToken cancellationToken) =>
            Task.FromResult<JobStatus?>(new JobStatus(jobId, Cancelled ? JobStatus.Cancelled : JobStatus.Queued, DateTimeOffset.UtcNow));

        public Task SetStatusAsync(JobStatus status, CancellationToken cancellationToken) => Task.CompletedTask;

        public Task<int> EraseAddressAsync(string address, CancellationToken cancellationToken) => Task.FromResult(0);

    }
}
