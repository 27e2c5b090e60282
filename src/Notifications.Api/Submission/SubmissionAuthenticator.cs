using System.Collections.Concurrent;
using System.Net;
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
/// passed, right key or not, so a key cannot be guessed by trying. The key never reaches a log line.
/// </summary>
public sealed partial class SubmissionAuthenticator(
    ClientRegistry clients,
    IOptions<SubmissionOptions> options,
    TimeProvider clock,
    ILogger<SubmissionAuthenticator> logger) : IUserAuthenticator
{
    /// <summary>The session property that holds the authenticated <see cref="Client"/>.</summary>
    public const string ClientKey = "notifications:client";

    private readonly ConcurrentDictionary<IPAddress, Failures> _failures = new();
    private readonly SubmissionOptions _options = options.Value;

    public Task<bool> AuthenticateAsync(ISessionContext context, string user, string password, CancellationToken cancellationToken)
    {
        var address = RemoteAddress(context);
        var now = clock.GetUtcNow();
        if (_failures.TryGetValue(address, out var failures) && failures.Count(now, _options.FailedAuthWindow) >= _options.MaxFailedAuth)
        {
            LogLockedOut(address.ToString());
            throw new SmtpResponseException(new SmtpResponse((SmtpReplyCode)454,
                $"4.7.0 Too many failed authentications from your address; try again in {_options.FailedAuthWindow.TotalMinutes:0} minutes"), quit: true);
        }
        var client = password.Length is > 0 and <= ClientRegistry.MaxKeyLength ? clients.FindByKey(password) : null;
        if (client is null || !string.Equals(client.Name, user, StringComparison.Ordinal))
        {
            _failures.GetOrAdd(address, _ => new Failures()).Add(now, _options.FailedAuthWindow);
            Prune(now);
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

    /// <summary>Forgets addresses whose failures all left the window, so strangers cannot grow the table without end.</summary>
    private void Prune(DateTimeOffset now)
    {
        if (_failures.Count < 1_000)
            return;
        foreach (var (address, failures) in _failures)
            if (failures.Count(now, _options.FailedAuthWindow) == 0)
                _failures.TryRemove(address, out _);
    }

    /// <summary>One address's failed attempts within the window (at most a bounded number kept).</summary>
    private sealed class Failures
    {
        private readonly Queue<DateTimeOffset> _at = new();

        public int Count(DateTimeOffset now, TimeSpan window)
        {
            lock (_at)
            {
                while (_at.Count > 0 && now - _at.Peek() >= window)
                    _at.Dequeue();
                return _at.Count;
            }
        }

        public void Add(DateTimeOffset now, TimeSpan window)
        {
            lock (_at)
            {
                _at.Enqueue(now);
                while (_at.Count > 1_000 || (_at.Count > 0 && now - _at.Peek() >= window))
                    _at.Dequeue();
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "SMTP submission: failed AUTH from {Remote} as {User}")]
    private partial void LogFailed(string remote, string user);

    [LoggerMessage(Level = LogLevel.Warning, Message = "SMTP submission: AUTH from {Remote} refused, too many failures in the window")]
    private partial void LogLockedOut(string remote);
}
