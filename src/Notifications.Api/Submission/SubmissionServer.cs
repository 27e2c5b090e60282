using System.Collections.Concurrent;
using System.Net;
using System.Security.Authentication;
using Microsoft.Extensions.Options;
using Notifications.Core.Listening;
using Notifications.Core.Submission;
using Notifications.Core.Telemetry;
using SmtpServer;

namespace Notifications.Api.Submission;

/// <summary>
/// The SMTP submission listener (RFC 6409) on <c>Submission:Listen</c> with STARTTLS, and on <c>Submission:TlsListen</c>
/// with implicit TLS: AUTH only once the session is encrypted (or on a loopback listener allowed plain text), no
/// <c>MAIL FROM</c> before AUTH, at most <c>Submission:MaxMessageBytes</c> a message (advertised as <c>SIZE</c>; a DATA
/// that crosses it is cut there), bounded sessions, and 64 KB from a session before it authenticated.
/// </summary>
public sealed partial class SubmissionServer(
    IOptions<SubmissionOptions> options,
    SubmissionAuthenticator authenticator,
    SubmissionFilter filter,
    SubmissionStore store,
    NotificationsTelemetry telemetry,
    ILogger<SubmissionServer> logger) : BackgroundService
{
    /// <summary>What a session may send before AUTH: EHLO, STARTTLS and its handshake, AUTH — far less than this.</summary>
    public const int MaxBytesUntilAuthenticated = 64 * 1024;

    private readonly TaskCompletionSource<SubmissionEndPoints> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Where it listens once it does (the port the OS chose for port 0); <see cref="SubmissionEndPoints.None"/> when it is off.</summary>
    public Task<SubmissionEndPoints> Listening => _listening.Task;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        if (settings.Off() is { } why)
        {
            LogOff(why);
            _listening.TrySetResult(SubmissionEndPoints.None);
            return;
        }
        using var certificate = settings.HasCertificate ? settings.LoadCertificate() : null;
        var endpoints = new List<(IPEndPoint EndPoint, bool Tls)> { (settings.ListenEndPoint()!, false) };
        if (settings.TlsListenEndPoint() is { } tlsEndPoint)
            endpoints.Add((tlsEndPoint, true));

        var builder = new SmtpServerOptionsBuilder()
            .ServerName(settings.ServerName)
            .MaxMessageSize(settings.MaxMessageBytes, MaxMessageSizeHandling.Strict)
            .CommandWaitTimeout(settings.CommandTimeout)
            .MaxRetryCount(5)
            .MaxAuthenticationAttempts(3);
        foreach (var (endPoint, tls) in endpoints)
            builder.Endpoint(e =>
            {
                e.Endpoint(endPoint).SessionTimeout(settings.SessionTimeout).AuthenticationRequired(true).IsSecure(tls)
                    .SupportedSslProtocols(SslProtocols.Tls12 | SslProtocols.Tls13)
                    .AllowUnsecureAuthentication(!tls && settings.AllowPlainTextAuth);
                if (certificate is not null)
                    e.Certificate(certificate);
            });

        var bound = new ConcurrentDictionary<bool, IPEndPoint>();
        var services = new SmtpServer.ComponentModel.ServiceProvider();
        services.Add(new BoundedListenerFactory(
            new SessionLimits(settings.MaxSessions, settings.MaxSessionsPerAddress, long.MaxValue, MaxBytesUntilAuthenticated),
            refused => telemetry.Submissions.Add(1, new KeyValuePair<string, object?>("outcome", refused)),
            (definition, endPoint) =>
            {
                bound[definition.IsSecure] = endPoint;
                if (bound.Count == endpoints.Count)
                {
                    var listening = new SubmissionEndPoints(bound[false], bound.GetValueOrDefault(true));
                    LogListening(listening.ToString(), certificate is null ? "AUTH without TLS: loopback development only" : "AUTH only after TLS", settings.MaxMessageBytes);
                    _listening.TrySetResult(listening);
                }
            }));
        services.Add(authenticator);
        services.Add(filter);
        services.Add(store);
        var server = new SmtpServer.SmtpServer(builder.Build(), services);
        server.SessionFaulted += (_, e) => LogSessionFaulted(e.Exception.GetBaseException().Message);
        try
        {
            await server.StartAsync(stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
        catch (Exception ex)
        {
            LogCannotListen(string.Join(", ", endpoints.Select(e => e.EndPoint)), ex.GetBaseException().Message);
            _listening.TrySetException(ex);
            throw;
        }
        finally
        {
            _listening.TrySetResult(SubmissionEndPoints.None);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "SMTP submission on {Endpoints}; {Security}; at most {MaxBytes} bytes a message")]
    private partial void LogListening(string endpoints, string security, int maxBytes);

    [LoggerMessage(Level = LogLevel.Information, Message = "SMTP submission is off: {Reason}")]
    private partial void LogOff(string reason);

    [LoggerMessage(Level = LogLevel.Critical, Message = "SMTP submission cannot listen on {Endpoints}: {Reason}")]
    private partial void LogCannotListen(string endpoints, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "SMTP submission session ended abnormally: {Reason}")]
    private partial void LogSessionFaulted(string reason);
}

/// <summary>Where the submission listener listens: with STARTTLS, and with implicit TLS when configured.</summary>
public sealed record SubmissionEndPoints(IPEndPoint? StartTls, IPEndPoint? Tls)
{
    public static readonly SubmissionEndPoints None = new(null, null);

    public override string ToString() => (StartTls, Tls) switch
    {
        (null, _) => "nothing",
        (_, null) => $"{StartTls} (STARTTLS)",
        _ => $"{StartTls} (STARTTLS) and {Tls} (implicit TLS)",
    };
}
