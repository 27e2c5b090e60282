using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace Notifications.Core.DeadLetters;

public sealed partial class DeadLetterQueue
{
    /// <summary>One channel the DLQ is read through, and the deliveries it holds.</summary>
    internal sealed class Segment
    {
        private readonly AsyncEventingBasicConsumer _consumer;
        private readonly SemaphoreSlim _settling = new(1, 1);
        private string? _tag;
        private TaskCompletionSource? _stopped;

        public Segment(IChannel channel, System.Threading.Channels.ChannelWriter<DeadLetter> arrived)
        {
            Channel = channel;
            _consumer = new AsyncEventingBasicConsumer(channel);
            _consumer.ReceivedAsync += (_, delivery) =>
            {
                Unsettled.TryAdd(delivery.DeliveryTag, HeldState);
                arrived.TryWrite(new DeadLetter(delivery.DeliveryTag, delivery.Body.ToArray(), delivery.BasicProperties) { Source = this });
                return Task.CompletedTask;
            };
            // Through the dispatcher that hands the deliveries over: every delivery before the cancel is handed over by then.
            _consumer.UnregisteredAsync += (_, _) =>
            {
                _stopped?.TrySetResult();
                return Task.CompletedTask;
            };
        }

        public IChannel Channel { get; }

        /// <summary>Deliveries neither removed nor returned yet: what a final nack may cover.</summary>
        public readonly System.Collections.Concurrent.ConcurrentDictionary<ulong, byte> Unsettled = new();

        /// <summary>Letters the reader left in place on this channel.</summary>
        public int Kept;

        public int PendingRemovals;

        /// <summary>Removed letters left unacked behind one in flight: few enough that the prefetch window keeps delivering.</summary>
        private const int DeferredAtMost = Window / 4;

        public int Prefetch { get; private set; }

        public async Task ConsumeAsync(string queue, int prefetch, CancellationToken cancellationToken)
        {
            Prefetch = prefetch;
            _stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            await Channel.BasicQosAsync(0, (ushort)Math.Min(prefetch, ushort.MaxValue), false, cancellationToken);
            _tag = await Channel.BasicConsumeAsync(queue, autoAck: false, _consumer, cancellationToken);
        }

        /// <summary>Cancels the consumer and returns once every delivery sent before the cancel was handed over.</summary>
        public async Task StopAsync(CancellationToken cancellationToken)
        {
            if (_tag is null)
                return;
            await Channel.BasicCancelAsync(_tag, noWait: false, cancellationToken);
            _tag = null;
            await _stopped!.Task.WaitAsync(cancellationToken);
        }

        /// <param name="final">no removal follows (the rest is returned next): ack every removed one now.</param>
        public async Task SettleRemovalsAsync(CancellationToken cancellationToken, bool final = false)
        {
            await _settling.WaitAsync(cancellationToken);
            try
            {
                Interlocked.Exchange(ref PendingRemovals, 0);
                ulong lowestHeld = ulong.MaxValue, lowestKept = ulong.MaxValue;
                var removed = new List<ulong>();
                foreach (var (tag, state) in Unsettled)
                {
                    if (state == RemovedState)
                        removed.Add(tag);
                    else if (state == KeptState)
                        lowestKept = Math.Min(lowestKept, tag);
                    else
                        lowestHeld = Math.Min(lowestHeld, tag);
                }
                if (removed.Count == 0)
                    return;
                // Every removed tag below the lowest one not removed: one ack with multiple covers them all.
                var lowestLeft = Math.Min(lowestHeld, lowestKept);
                var below = removed.Where(tag => tag < lowestLeft).ToList();
                if (below.Count > 0)
                {
                    await Channel.BasicAckAsync(below.Max(), multiple: true, cancellationToken);
                    foreach (var tag in below)
                        Unsettled.TryRemove(tag, out _);
                }
                // Above it, one by one: a kept letter below blocks a multiple for good; a letter in flight below usually
                // settles by the next batch, unless this is the last or so many wait that the prefetch window would fill.
                var above = removed.Where(tag => tag > lowestLeft).ToList();
                var waitForFlight = !final && above.Count(tag => tag > lowestHeld) < DeferredAtMost;
                foreach (var tag in above.Where(tag => !waitForFlight || tag < lowestHeld))
                {
                    await Channel.BasicAckAsync(tag, multiple: false, cancellationToken);
                    Unsettled.TryRemove(tag, out _);
                }
            }
            finally
            {
                _settling.Release();
            }
        }
    }
}
