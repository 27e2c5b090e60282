using System.Collections.Concurrent;
using MassTransit;
using MassTransit.Context;
using MassTransit.RabbitMqTransport;
using MassTransit.Serialization;
using Notifications.Core.Broker;
using RabbitMQ.Client;

namespace Notifications.Core.Events;

/// <summary>
/// Outcome events as a MassTransit bus would publish them — its envelope, written by its own serializer, to the exchange its
/// topology names for the message type (with the deployment's prefix) — but through a confirmed publisher's channels, without a
/// bus. For a short-lived process that publishes many events at once (<c>dlq replay</c> of 100,000): a bus took 0.2 s to start
/// and 0.4 s of JIT before its first publish, and about 30 µs of CPU per publish beside 10 µs for this. Subscribers cannot
/// tell the difference (a MassTransit subscriber consumes them in the tests); the long-running services keep their bus.
/// </summary>
public sealed class EnvelopeEvents(ConfirmedPublisher publisher, RabbitMqOptions options) : IOutcomeEvents
{
    private static readonly SystemTextJsonMessageSerializer Serializer = SystemTextJsonMessageSerializer.Instance;
    private readonly ConcurrentDictionary<Type, (string Exchange, Uri Address)> _destinations = new();
    private readonly IEntityNameFormatter _names = options.Prefix.Length > 0
        ? new PrefixEntityNameFormatter(new MessageNameFormatterEntityNameFormatter(new RabbitMqMessageNameFormatter()), options.Prefix)
        : new MessageNameFormatterEntityNameFormatter(new RabbitMqMessageNameFormatter());

    /// <exception cref="PublishFailedException">the broker did not confirm the event.</exception>
    public async Task PublishAsync<T>(T outcome, CancellationToken cancellationToken) where T : class
    {
        var (exchange, address) = _destinations.GetOrAdd(typeof(T), _ => Destination<T>());
        var context = new MessageSendContext<T>(outcome, cancellationToken) { DestinationAddress = address, Serializer = Serializer };
        var properties = new BasicProperties
        {
            ContentType = Serializer.ContentType.MediaType,
            MessageId = context.MessageId?.ToString(),
            Persistent = true,
        };
        try
        {
            await publisher.PublishEventAsync(exchange, properties, Serializer.GetMessageBody(context).GetBytes(), cancellationToken);
        }
        catch (PublishFailedException ex)
        {
            throw new PublishFailedException($"{typeof(T).Name} event not confirmed: {ex.Message}", ex.MayHaveArrived, ex);
        }
    }

    /// <summary>Declares the exchange of <typeparamref name="T"/> and opens the channel, before the first event needs them.</summary>
    public async Task PrepareAsync<T>(CancellationToken cancellationToken) where T : class =>
        await publisher.PrepareEventExchangeAsync(_destinations.GetOrAdd(typeof(T), _ => Destination<T>()).Exchange, cancellationToken);

    /// <summary>Writes one envelope of <typeparamref name="T"/> and throws it away: what the first real one would otherwise wait for (JIT, MassTransit's caches).</summary>
    public static void WarmUp<T>() where T : class
    {
        var sample = (T)System.Runtime.CompilerServices.RuntimeHelpers.GetUninitializedObject(typeof(T));
        Serializer.GetMessageBody(new MessageSendContext<T>(sample) { Serializer = Serializer }).GetBytes();
    }

    /// <summary>The exchange MassTransit publishes <typeparamref name="T"/> to, and its address as MassTransit writes it in the envelope.</summary>
    private (string Exchange, Uri Address) Destination<T>() where T : class
    {
        var exchange = _names.FormatEntityName<T>();
        var node = options.Nodes()[0];
        var virtualHost = options.Uri!.AbsolutePath is "" or "/" ? "" : options.Uri.AbsolutePath.TrimEnd('/');
        var scheme = options.Uri.Scheme == "amqps" ? "rabbitmqs" : "rabbitmq";
        return (exchange, new Uri($"{scheme}://{node.Host}:{node.Port}{virtualHost}/{Uri.EscapeDataString(exchange)}?type=fanout"));
    }
}
