using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Notifications.Core.Bounces;
using Notifications.Core.Telemetry;
using Notifications.Core.Listening;
using SmtpServer;
using SmtpServer.ComponentModel;

namespace Notifications.Inbound;

/// <summary>The SMTP server on <c>Bounces:Listen</c>, with the domain filter, the broker-backed store and the session limits.</summary>
public sealed partial class InboundServer(
    IOptions<BouncesOptions> options,
    BounceDomainFilter filter,
    InboundMessageStore store,
    NotificationsTelemetry telemetry,
    ILogger<InboundServer> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        var endpoint = settings.ListenEndPoint();
        var smtp = new SmtpServerOptionsBuilder()
            .ServerName(settings.Domain)
            // Strict: a DATA that crosses the limit ends the session there (552), never read, let alone held, to its end.
            .MaxMessageSize(settings.MaxMessageBytes, MaxMessageSizeHandling.Strict)
            .CommandWaitTimeout(settings.CommandTimeout)
            .MaxRetryCount(3)
            .MaxAuthenticationAttempts(0)
            .Endpoint(e => e.Endpoint(endpoint).SessionTimeout(settings.SessionTimeout))
            .Build();
        var services = new ServiceProvider();
        // A session may carry a few messages; one that sends more than four of the largest is cut.
        services.Add(new BoundedListenerFactory(new SessionLimits(settings.MaxSessions, settings.MaxSessionsPerAddress, 4L * settings.MaxMessageBytes + 1024 * 1024),
            outcome => telemetry.Inbound.Add(1, new KeyValuePair<string, object?>("kind", "smtp"), new KeyValuePair<string, object?>("outcome", outcome))));
        services.Add(filter);
        services.Add(store);
        var server = new SmtpServer.SmtpServer(smtp, services);
        server.SessionFaulted += (_, e) => LogSessionFaulted(e.Exception.GetBaseException().Message);
        LogListening(endpoint.ToString(), settings.Domain, settings.MaxMessageBytes, settings.MaxSessions, settings.MaxSessionsPerAddress, settings.MaxRecipients);
        try
        {
            await server.StartAsync(stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Receiving bounces and complaints for {Domain} on {Endpoint} (at most {MaxBytes} bytes a message, {MaxSessions} sessions, {PerAddress} from one address, {MaxRecipients} recipients a message)")]
    private partial void LogListening(string endpoint, string domain, int maxBytes, int maxSessions, int perAddress, int maxRecipients);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Inbound SMTP session ended abnormally: {Reason}")]
    private partial void LogSessionFaulted(string reason);
}
