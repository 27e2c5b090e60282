using System.Collections.Concurrent;
using Notifications.Contracts;
using Notifications.Core.Broker;
using Notifications.Core.Events;
using Notifications.Tests.Infrastructure;

namespace Notifications.Tests.Integration;

/// <summary>A failed job's event speaks of a copy that is there: it is published after the copy was confirmed.</summary>
public sealed class ParkingOrderTests
{
    [Fact]
    public async Task EmailDeadLettered_is_published_only_once_the_DLQ_holds_the_copy_and_a_failing_publish_of_it_is_tried_again()
    {
        var seen = new ConcurrentQueue<(string Event, uint DeadQueueDepth)>();
        Pipeline? started = null;
        await using var pipeline = started = await Pipeline.StartAsync(workerServices: services =>
            services.Decorate<IOutcomeEvents>(inner => new DeadEventWatcher(inner, seen, () => started!)));
        pipeline.Relay.Script(TestRelay.Permanent());

        var id = await Jobs.PostAndGetIdAsync(pipeline.Http, Jobs.Valid("refused for good"));

        await Eventually.TrueAsync(() => seen.Any(e => e.Event == nameof(EmailDeadLettered)), "EmailDeadLettered");
        await Eventually.ReturnsAsync(() => pipeline.Queues.CountAsync(pipeline.Names.SendQueue), n => n == 0, "the job acked");
        var tries = seen.Where(e => e.Event.EndsWith(nameof(EmailDeadLettered), StringComparison.Ordinal)).ToList();
        Assert.Equal(2, tries.Count); // the first publish failed, the second went through
        Assert.All(tries, t => Assert.Equal(1u, t.DeadQueueDepth)); // the copy was in the DLQ before either
        Assert.Equal(1u, await pipeline.Queues.CountAsync(pipeline.Names.DeadQueue)); // one copy, though the event failed once
        Assert.Equal(id, (await pipeline.Queues.TakeAsync(pipeline.Names.DeadQueue)).Single().Properties.MessageId);
    }

    /// <summary>Notes the DLQ's depth when EmailDeadLettered is published, and fails its first publish.</summary>
    private sealed class DeadEventWatcher(IOutcomeEvents inner, ConcurrentQueue<(string, uint)> seen, Func<Pipeline> pipeline) : IOutcomeEvents
    {
        private int _dead;

        public async Task PublishAsync<T>(T outcome, CancellationToken cancellationToken) where T : class
        {
            if (outcome is EmailDeadLettered)
            {
                var depth = await pipeline().Queues.CountAsync(pipeline().Names.DeadQueue);
                if (Interlocked.Increment(ref _dead) == 1)
                {
                    seen.Enqueue(("failed " + nameof(EmailDeadLettered), depth));
                    throw new PublishFailedException("EmailDeadLettered event not confirmed (a test's)", mayHaveArrived: true);
                }
                seen.Enqueue((nameof(EmailDeadLettered), depth));
            }
            await inner.PublishAsync(outcome, cancellationToken);
        }
    }
}
