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
                Unsettled.TryAdd(delivery.DeliveryTag, Held);
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

        public async Task SettleRemovalsAsync(CancellationToken cancellationToken)
        {
            await _settling.WaitAsync(cancellationToken);
            try
            {
                Interlocked.Exchange(ref PendingRemovals, 0);
                var lowestHeld = ulong.MaxValue;
                var removed = new List<ulong>();
                foreach (var (tag, state) in Unsettled)
                {
                    if (state == Removed)
                        removed.Add(tag);
                    else if (tag < lowestHeld)
                        lowestHeld = tag;
                }
                if (removed.Count == 0)
                    return;
                // Every unsettled tag below the lowest held one is removed: one ack with multiple covers them all.
                var below = removed.Where(tag => tag < lowestHeld).ToList();
                if (below.Count > 0)
                {
                    await Channel.BasicAckAsync(below.Max(), multiple: true, cancellationToken);
                    foreach (var tag in below)
                        Unsettled.TryRemove(tag, out _);
                }
                foreach (var tag in removed.Where(tag => tag > lowestHeld))
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
