using Microsoft.Extensions.Options;
using Notifications.Core.Telemetry;
using Notifications.Core.Topology;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace Notifications.Core.Broker;

/// <summary>
/// Publishes to the notifications exchange and returns only once the broker confirmed the message.
/// A few long-lived channels with confirm tracking are shared by every caller, so many publishes
/// are in flight at once instead of one channel per publish or one publish at a time.
/// </summary>
/// <param name="channels">
/// publishing channels (2 by default). Confirms come back in order on each channel but not across them: the <c>dlq</c> tool
/// uses one, so the dead letters it replays are confirmed in the order it took them and their removals settle in a few
/// acks with <c>multiple</c> (with two, a 20,000-letter replay sent 7,196 acks; with one, 70).
/// </param>
public sealed class ConfirmedPublisher(BrokerConnection broker, TopologyNames names, IOptions<RabbitMqOptions> options,
    NotificationsTelemetry? telemetry = null, int channels = 2) : IAsyncDisposable
{
    private const int MaxOutstandingConfirmsPerChannel = 1_024;

    private readonly IChannel?[] _channels = new IChannel?[channels];
    private readonly SemaphoreSlim _channelLock = new(1, 1);
    private readonly TimeSpan _timeout = options.Value.PublishTimeout;
    private int _next;

    /// <summary>Publishes persistently and mandatorily, and waits for the broker's confirm.</summary>
    /// <remarks>
    /// A message the broker could not route (someone deleted our queue) is published once more after the
    /// topology is declared again, so the deleting costs the caller nothing but the time it takes.
    /// </remarks>
    /// <exception cref="PublishFailedException">not confirmed: the broker is gone, blocked, refused it, could not route it, or was too slow.</exception>
    public async Task PublishAsync(string routingKey, BasicProperties properties, ReadOnlyMemory<byte> body,
        CancellationToken cancellationToken)
    {
        try
        {
            await PublishOnceAsync(routingKey, properties, body, cancellationToken);
        }
        catch (PublishException ex) when (ex.IsReturn && !broker.OwnsTopology)
        {
            throw new PublishFailedException($"unroutable: no queue is bound to '{names.Exchange}' with key '{routingKey}'", inner: ex);
        }
        catch (PublishException ex) when (ex.IsReturn)
        {
            try
            {
                await broker.RestoreTopologyAsync($"a message to key '{routingKey}' came back unroutable", cancellationToken);
            }
            catch (Exception restore) when (restore is TopologyMismatchException || BrokerConnection.IsBrokerUnavailable(restore))
            {
                throw new PublishFailedException(
                    $"unroutable: no queue is bound to '{names.Exchange}' with key '{routingKey}', and declaring it again failed", inner: restore);
            }
            try
            {
                await PublishOnceAsync(routingKey, properties, body, cancellationToken);
            }
            catch (PublishException again) when (again.IsReturn)
            {
                throw new PublishFailedException($"unroutable: no queue is bound to '{names.Exchange}' with key '{routingKey}'", inner: again);
            }
        }
    }

    /// <summary>
    /// Publishes to another exchange of the deployment (the delay levels of a scheduled job), as <see cref="PublishAsync"/>
    /// does; a message that comes back unroutable is published once more after <paramref name="restore"/> declared what it needs.
    /// </summary>
    public async Task PublishToAsync(string exchange, string routingKey, BasicProperties properties, ReadOnlyMemory<byte> body,
        Func<CancellationToken, Task> restore, CancellationToken cancellationToken)
    {
        try
        {
            await PublishOnceAsync(routingKey, properties, body, cancellationToken, exchange);
        }
        catch (PublishException ex) when (ex.IsReturn)
        {
            try
            {
                await restore(cancellationToken);
                await PublishOnceAsync(routingKey, properties, body, cancellationToken, exchange);
            }
            catch (PublishException again) when (again.IsReturn)
            {
                throw new PublishFailedException($"unroutable: nothing is bound to '{exchange}' with key '{routingKey}'", inner: again);
            }
            catch (Exception failed) when (BrokerConnection.IsBrokerUnavailable(failed))
            {
                throw new PublishFailedException($"unroutable: nothing is bound to '{exchange}', and declaring it failed", inner: failed);
            }
        }
    }

    /// <summary>
    /// Publishes an event to a fanout exchange of its own (MassTransit's topology: one per message type), persistently but not
    /// mandatorily, as MassTransit publishes: an event nobody subscribed to yet is dropped by the broker, not an error. The
    /// exchange is declared (fanout, durable) once per process, on a channel of its own: the same declaration MassTransit makes,
    /// so either may come first.
    /// </summary>
    /// <exception cref="PublishFailedException">not confirmed (see <see cref="PublishAsync"/>).</exception>
    public async Task PublishEventAsync(string exchange, BasicProperties properties, ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        await PrepareEventExchangeAsync(exchange, cancellationToken);
        await PublishOnceAsync("", properties, body, cancellationToken, exchange, mandatory: false);
    }

    /// <summary>
    /// Declares an event exchange (once per process) and opens the channel events go through, ahead of the first event:
    /// on a broker busy with other publishes, those round trips took the first event 170 ms.
    /// </summary>
    /// <exception cref="PublishFailedException">the exchange could not be declared.</exception>
    public async Task PrepareEventExchangeAsync(string exchange, CancellationToken cancellationToken)
    {
        var declared = _eventExchanges.GetOrAdd(exchange, DeclareEventExchangeAsync);
        try
        {
            await declared.WaitAsync(_timeout, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // Not kept: the next event tries again (the broker is back, or someone fixed an exchange of another type).
            _eventExchanges.TryRemove(new KeyValuePair<string, Task>(exchange, declared));
            throw new PublishFailedException($"could not declare the event exchange '{exchange}': {ex.GetBaseException().Message}", mayHaveArrived: false, ex);
        }
    }

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, Task> _eventExchanges = new(StringComparer.Ordinal);

    private async Task DeclareEventExchangeAsync(string exchange)
    {
        var connection = broker.Current ?? throw new PublishFailedException("broker unreachable: no open connection");
        await using (var channel = await connection.CreateChannelAsync())
            await channel.ExchangeDeclareAsync(exchange, ExchangeType.Fanout, durable: true, autoDelete: false);
        await GetChannelAsync(connection, CancellationToken.None);
    }

    private async Task PublishOnceAsync(string routingKey, BasicProperties properties, ReadOnlyMemory<byte> body,
        CancellationToken cancellationToken, string? exchange = null, bool mandatory = true)
    {
        var connection = broker.Current
            ?? throw new PublishFailedException("broker unreachable: no open connection");
        // A blocked connection takes the publish but the broker reads it only once the alarm clears: the caller
        // would get no answer in time, and the message would arrive later all the same.
        if (broker.BlockedReason is { } blocked)
            throw new PublishFailedException($"the broker is refusing publishes for now ({blocked})");
        properties.DeliveryMode = DeliveryModes.Persistent;

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_timeout);
        var handedOver = false;
        try
        {
            var channel = await GetChannelAsync(connection, timeout.Token);
            handedOver = true;
            await channel.BasicPublishAsync(exchange ?? names.Exchange, routingKey, mandatory, properties, body, timeout.Token);
            telemetry?.Published.Add(1, NotificationsTelemetry.RabbitMq, NotificationsTelemetry.Destination(mandatory ? routingKey : exchange!));
        }
        catch (PublishException ex) when (ex.IsReturn)
        {
            throw;
        }
        catch (PublishException ex)
        {
            throw new PublishFailedException("the broker refused the message (nack)", inner: ex);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new PublishFailedException($"no confirm from the broker within {_timeout.TotalMilliseconds:0} ms", handedOver, ex);
        }
        catch (Exception ex) when (BrokerConnection.IsBrokerUnavailable(ex))
        {
            throw new PublishFailedException("broker connection lost before the confirm: " + ex.GetBaseException().Message, handedOver, ex);
        }
    }

    private async ValueTask<IChannel> GetChannelAsync(IConnection connection, CancellationToken cancellationToken)
    {
        var slot = (int)((uint)Interlocked.Increment(ref _next) % (uint)_channels.Length);
        var channel = _channels[slot];
        if (channel is { IsOpen: true })
            return channel;

        await _channelLock.WaitAsync(cancellationToken);
        try
        {
            channel = _channels[slot];
            if (channel is { IsOpen: true })
                return channel;
            if (channel is not null)
                await channel.DisposeAsync();
            channel = await connection.CreateChannelAsync(ConfirmWindow.ChannelOptions(MaxOutstandingConfirmsPerChannel), cancellationToken);
            _channels[slot] = channel;
            return channel;
        }
        finally
        {
            _channelLock.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var channel in _channels)
            if (channel is not null)
                await channel.DisposeAsync();
        _channelLock.Dispose();
    }
}
