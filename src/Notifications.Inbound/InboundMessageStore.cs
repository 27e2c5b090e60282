using System.Buffers;
using System.Net;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Notifications.Core.Bounces;
using Notifications.Core.Broker;
using Notifications.Core.Telemetry;
using Notifications.Core.Topology;
using RabbitMQ.Client;
using SmtpServer;
using SmtpServer.Net;
using SmtpServer.Protocol;
using SmtpServer.Storage;

namespace Notifications.Inbound;

/// <summary>
/// The end of DATA: the raw message goes to <c>email.inbound</c>, persistent, and only once the broker confirmed it is
/// the sender told <c>250</c>; broker trouble is <c>451 4.3.0</c> and the sender tries again later, so nothing that was
/// answered 250 is lost and nothing is half-taken. A message over <c>Bounces:MaxMessageBytes</c> is <c>552</c>. Nothing
/// is parsed here: the worker reads it, and a message that breaks the reader cannot break the receiver.
/// </summary>
public sealed partial class InboundMessageStore(
    ConfirmedPublisher publisher,
    IOptions<BouncesOptions> options,
    NotificationsTelemetry telemetry,
    TimeProvider clock,
    ILogger<InboundMessageStore> logger) : MessageStore
{
    public override async Task<SmtpResponse> SaveAsync(ISessionContext context, IMessageTransaction transaction, ReadOnlySequence<byte> buffer,
        CancellationToken cancellationToken)
    {
        if (buffer.Length > options.Value.MaxMessageBytes)
        {
            Count("too-big");
            return new SmtpResponse(SmtpReplyCode.SizeLimitExceeded, $"5.3.4 Message too big: at most {options.Value.MaxMessageBytes} bytes");
        }
        var remote = context.Properties.TryGetValue(EndpointListener.RemoteEndPointKey, out var endpoint) && endpoint is IPEndPoint ip
            ? ip.Address.ToString()
            : "";
        var properties = InboundHeaders.For(string.Join(",", transaction.To.Select(m => $"{m.User}@{m.Host}")),
            transaction.From is { } from && !string.IsNullOrEmpty(from.User) ? $"{from.User}@{from.Host}" : "", remote, clock.GetUtcNow());
        var id = properties.MessageId!;
        try
        {
            await publisher.PublishAsync(TopologyNames.InboundKey, properties, buffer.ToArray(), cancellationToken);
        }
        catch (PublishFailedException ex) when (ex.Refused)
        {
            // email.inbound is at its length limit (reject-publish): nothing more gets in until the consumer catches up.
            Count("queue-full");
            LogDeferred(remote, ex.GetBaseException().Message);
            return new SmtpResponse((SmtpReplyCode)451, "4.3.2 Too much mail waiting to be read, try again later");
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            Count("deferred");
            LogDeferred(remote, ex.GetBaseException().Message);
            return new SmtpResponse((SmtpReplyCode)451, "4.3.0 Temporary failure storing the message, try again later");
        }
        Count("accepted");
        LogAccepted(id, buffer.Length, remote);
        return SmtpResponse.Ok;
    }

    private void Count(string outcome) => telemetry.Inbound.Add(1, new KeyValuePair<string, object?>("kind", "smtp"), new KeyValuePair<string, object?>("outcome", outcome));

    [LoggerMessage(Level = LogLevel.Information, Message = "Received inbound message {MessageId} ({Bytes} bytes) from {Remote}")]
    private partial void LogAccepted(string messageId, long bytes, string remote);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Inbound message from {Remote} answered 451: the broker did not take it ({Reason})")]
    private partial void LogDeferred(string remote, string reason);
}
