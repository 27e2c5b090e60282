using System.Collections.Concurrent;
using MassTransit;
using Notifications.Contracts;
using Notifications.Core.Broker;
using Notifications.Core.Events;

namespace Notifications.Tests.Infrastructure;

/// <summary>
/// What another service does to hear about its mails: a MassTransit bus with a queue of its own that
/// consumes the events of Notifications.Contracts. Here it records what it received.
/// </summary>
public sealed class SampleSubscriber : IAsyncDisposable
{
    private readonly IBusControl _bus;

    private SampleSubscriber(IBusControl bus) => _bus = bus;

    public ConcurrentQueue<object> Received { get; } = new();

    public static async Task<SampleSubscriber> StartAsync(string brokerUri, string prefix)
    {
        SampleSubscriber? subscriber = null;
        var bus = Bus.Factory.CreateUsingRabbitMq(rabbit =>
        {
            OutcomeEventsRegistration.ConfigureHost(rabbit, new RabbitMqOptions { Uri = new Uri(brokerUri), Prefix = prefix });
            rabbit.ReceiveEndpoint(prefix + "sample-subscriber", endpoint =>
            {
                endpoint.Handler<EmailSent>(context => Record(subscriber!, context.Message));
                endpoint.Handler<EmailRetryScheduled>(context => Record(subscriber!, context.Message));
                endpoint.Handler<EmailDeadLettered>(context => Record(subscriber!, context.Message));
                endpoint.Handler<EmailReplayed>(context => Record(subscriber!, context.Message));
                endpoint.Handler<EmailUnsubscribed>(context => Record(subscriber!, context.Message));
                endpoint.Handler<EmailBounced>(context => Record(subscriber!, context.Message));
                endpoint.Handler<EmailComplained>(context => Record(subscriber!, context.Message));
            });
        });
        subscriber = new SampleSubscriber(bus);
        await bus.StartAsync(new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token);
        return subscriber;
    }

    public IEnumerable<T> Of<T>(string jobId) where T : class =>
        Received.OfType<T>().Where(e => (string)typeof(T).GetProperty("JobId")!.GetValue(e)! == jobId);

    private static Task Record(SampleSubscriber subscriber, object message)
    {
        subscriber.Received.Enqueue(message);
        return Task.CompletedTask;
    }

    public async ValueTask DisposeAsync() => await _bus.StopAsync();
}
