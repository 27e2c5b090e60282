using System.Net;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;
using Notifications.Core.Clients;
using Notifications.Core.Submission;
using SmtpServer;
using SmtpServer.Authentication;
using SmtpServer.Net;
using SmtpServer.Protocol;

namespace Notifications.Api.Submission;

/// <summary>
/// <c>AUTH PLAIN</c> / <c>LOGIN</c>: the user name is a client's name and the password one of its API keys, compared by
/// hash as the HTTP API does. A remote address that failed <c>Submission:MaxFailedAuth</c> times within
/// <c>Submission:FailedAuthWindow</c> is answered <c>454 4.7.0</c> and disconnected on every AUTH until the window has
/// slid past its failures, right key or not, so a key cannot be guessed by trying. The key never reaches a log line.
/// </summary>
/// <remarks>Not <see cref="IDisposable"/>: SmtpServer disposes an authenticator after each AUTH that is one.</remarks>
public sealed partial class SubmissionAuthenticator(
    ClientRegistry clients,
    FailedAuthentications failures,
    IOptions<SubmissionOptions> options,
    ILogger<SubmissionAuthenticator> logger) : IUserAuthenticator
{
    /// <summary>The session property that holds the authenticated <see cref="Client"/>.</summary>
    public const string ClientKey = "notifications:client";

    private readonly SubmissionOptions _options = options.Value;

    public Task<bool> AuthenticateAsync(ISessionContext context, string user, string password, CancellationToken cancellationToken)
    {
        var address = RemoteAddress(context);
        if (failures.LockedOut(address))
        {
            LogLockedOut(address.ToString());
            throw new SmtpResponseException(new SmtpResponse((SmtpReplyCode)454,
                $"4.7.0 Too many failed authentications from your address; try again in {_options.FailedAuthWindow.TotalMinutes:0} minutes"), quit: true);
        }
        var client = password.Length is > 0 and <= ClientRegistry.MaxKeyLength ? clients.FindByKey(password) : null;
        if (client is null || !string.Equals(client.Name, user, StringComparison.Ordinal))
        {
            failures.Count(address);
            // The name only when it is a client's: a user name field may hold a key pasted in the wrong place.
            LogFailed(address.ToString(), clients.Find(user) is null ? "an unknown client" : user);
            return Task.FromResult(false);
        }
        context.Properties[ClientKey] = client;
        return Task.FromResult(true);
    }

    public static IPAddress RemoteAddress(ISessionContext context) =>
        context.Properties.TryGetValue(EndpointListener.RemoteEndPointKey, out var endpoint) && endpoint is IPEndPoint ip ? ip.Address : IPAddress.None;

    /// <summary>The client the session authenticated as; null before AUTH.</summary>
    public static Client? ClientOf(ISessionContext context) =>
        context.Authentication.IsAuthenticated && context.Properties.TryGetValue(ClientKey, out var client) ? client as Client : null;

    [LoggerMessage(Level = LogLevel.Warning, Message = "SMTP submission: failed AUTH from {Remote} as {User}")]
    private partial void LogFailed(string remote, string user);

    [LoggerMessage(Level = LogLevel.Warning, Message = "SMTP submission: AUTH from {Remote} refused, too many failures in the window")]
    private partial void LogLockedOut(string remote);
}

/// <summary>
/// Failed AUTH attempts per remote address in a sliding window (<c>Submission:MaxFailedAuth</c> in
/// <c>Submission:FailedAuthWindow</c>): a permit a failure; none left, the address is locked out. The limiter drops the
/// partitions of addresses whose failures all left the window, so strangers cannot grow it without end.
/// </summary>
public sealed class FailedAuthentications(IOptions<SubmissionOptions> options) : IDisposable
{
    private readonly PartitionedRateLimiter<IPAddress> _limiter = PartitionedRateLimiter.Create<IPAddress, IPAddress>(address =>
        RateLimitPartition.GetSlidingWindowLimiter(address, _ => new SlidingWindowRateLimiterOptions
        {
            PermitLimit = options.Value.MaxFailedAuth,
            Window = options.Value.FailedAuthWindow,
            SegmentsPerWindow = 5,
            QueueLimit = 0,
            AutoReplenishment = true,
        }));

    public bool LockedOut(IPAddress address) => _limiter.GetStatistics(address)?.CurrentAvailablePermits == 0;

    /// <summary>One more failure from <paramref name="address"/>: its permit comes back only as the window slides past it.</summary>
    public void Count(IPAddress address) => _limiter.AttemptAcquire(address).Dispose();

    public void Dispose() => _limiter.Dispose();
}
