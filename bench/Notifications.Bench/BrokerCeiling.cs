using System.Diagnostics;
using Notifications.Core.Broker;
using Notifications.Core.Contract;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace Notifications.Bench;

/// <summary>Raw RabbitMQ.Client 7: confirmed persistent publishes of the job's size to a quorum queue, then manual-ack consumption.</summary>
public static class BrokerCeiling
{
    public const int InFlight = 256;
    public const int Prefetch = 200;

    public static async Task<(double PublishPerSecond, double ConsumePerSecond)> RunAsync(Uri uri, string prefix, int count)
    {
        var factory = new ConnectionFactory { Uri = uri, ClientProvidedName = "bench-ceiling" };
        await using var connection = await factory.CreateConnectionAsync();
        var queue = prefix + "ceiling";
        await using (var setup = await connection.CreateChannelAsync())
            await setup.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false,
                arguments: new Dictionary<string, object?> { ["x-queue-type"] = "quorum", ["x-delivery-limit"] = 20 });

        var body = JobCodec.Encode(SampleJob.Job(Guid.NewGuid().ToString()));
        await using var publisher = await connection.CreateChannelAsync(ConfirmWindow.ChannelOptions(InFlight));
        var next = -1;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, InFlight).Select(async _ =>
        {
            while (Interlocked.Increment(ref next) < count)
            {
                var properties = JobProperties.ForNewJob(SampleJob.Job("x"));
                await publisher.BasicPublishAsync("", queue, mandatory: true, properties, body);
            }
        }));
        var publishRate = count / clock.Elapsed.TotalSeconds;

        await using var consumer = await connection.CreateChannelAsync();
        await consumer.BasicQosAsync(0, Prefetch, false);
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var received = 0;
        var handler = new AsyncEventingBasicConsumer(consumer);
        handler.ReceivedAsync += async (_, delivery) =>
        {
            await consumer.BasicAckAsync(delivery.DeliveryTag, false);
            if (Interlocked.Increment(ref received) == count)
                done.TrySetResult();
        };
        clock.Restart();
        await consumer.BasicConsumeAsync(queue, autoAck: false, handler);
        await done.Task.WaitAsync(TimeSpan.FromMinutes(10));
        var consumeRate = count / clock.Elapsed.TotalSeconds;

        await using (var cleanup = await connection.CreateChannelAsync())
            await cleanup.QueueDeleteAsync(queue, ifUnused: false, ifEmpty: false);
        return (publishRate, consumeRate);
    }
}
