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
public sealed class ConfirmedPublisher(BrokerConnection broker, TopologyNames names, IOptions<RabbitMqOptions> options,
    NotificationsTelemetry? telemetry = null) : IAsyncDisposable
{
    private const int ChannelCount = 2;
    private const int MaxOutstandingConfirmsPerChannel = 1_024;

    private readonly IChannel?[] _channels = new IChannel?[ChannelCount];
    private readonly SemaphoreSlim _channelLock = new(1, 1);
    private readonly TimeSpan _timeout = options.Value.PublishTimeout;
    private int _next;

    public TopologyNames Names => names;

    /// <summary>Publishes persistently and mandatorily, and waits for the broker's confirm.</summary>
    /// <exception cref="PublishFailedException">not confirmed: the broker is gone, refused it, could not route it, or was too slow.</exception>
    public async Task PublishAsync(string routingKey, BasicProperties properties, ReadOnlyMemory<byte> body,
        CancellationToken cancellationToken)
    {
        var connection = broker.Current
            ?? throw new PublishFailedException("broker unreachable: no open connection");
        properties.DeliveryMode = DeliveryModes.Persistent;

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_timeout);
        try
        {
            var channel = await GetChannelAsync(connection, timeout.Token);
            await channel.BasicPublishAsync(names.Exchange, routingKey, mandatory: true, properties, body, timeout.Token);
            telemetry?.Published.Add(1, NotificationsTelemetry.RabbitMq, NotificationsTelemetry.Destination(routingKey));
        }
        catch (PublishException ex) when (ex.IsReturn)
        {
            throw new PublishFailedException($"unroutable: no queue is bound to '{names.Exchange}' with key '{routingKey}'", ex);
        }
        catch (PublishException ex)
        {
            throw new PublishFailedException("the broker refused the message (nack)", ex);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new PublishFailedException($"no confirm from the broker within {_timeout.TotalMilliseconds:0} ms", ex);
        }
        catch (Exception ex) when (BrokerConnection.IsBrokerUnavailable(ex))
        {
            throw new PublishFailedException("broker connection lost before the confirm: " + ex.GetBaseException().Message, ex);
        }
    }

    private async ValueTask<IChannel> GetChannelAsync(IConnection connection, CancellationToken cancellationToken)
    {
        var slot = (int)((uint)Interlocked.Increment(ref _next) % ChannelCount);
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
