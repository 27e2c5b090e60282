using System.Reflection;
using RabbitMQ.Client;

namespace Notifications.Tests.Infrastructure;

/// <summary>
/// An <see cref="IChannel"/> for unit tests of what settles a delivery: it records acks and nacks (with requeue) and says
/// whether it is open; any other use throws, so a test sees at once when the code under test does more than settle.
/// </summary>
public class RecordingChannel : DispatchProxy
{
    public List<string> Settled { get; } = [];

    public bool Open { get; set; } = true;

    public static (IChannel Channel, RecordingChannel Record) Create()
    {
        var channel = DispatchProxy.Create<IChannel, RecordingChannel>();
        return (channel, (RecordingChannel)(object)channel);
    }

    protected override object? Invoke(MethodInfo? method, object?[]? args)
    {
        switch (method?.Name)
        {
            case "get_IsOpen":
                return Open;
            case "get_IsClosed":
                return !Open;
            case nameof(IChannel.BasicAckAsync):
                lock (Settled)
                    Settled.Add($"ack {args![0]}");
                return ValueTask.CompletedTask;
            case nameof(IChannel.BasicNackAsync):
                lock (Settled)
                    Settled.Add($"nack {args![0]} requeue={args[2]}");
                return ValueTask.CompletedTask;
            default:
                throw new NotSupportedException($"RecordingChannel: {method?.Name} is not what settling a delivery does");
        }
    }
}
