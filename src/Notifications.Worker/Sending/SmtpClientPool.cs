using System.Collections.Concurrent;
using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MimeKit;
using Notifications.Core.Configuration;

namespace Notifications.Worker.Sending;

/// <summary>
/// Up to <c>Smtp:Connections</c> connected, authenticated SMTP sessions, reused from mail to mail;
/// a session that failed in any way is closed and a fresh one opened on the next send.
/// </summary>
public sealed class SmtpClientPool(IOptions<SmtpOptions> options, ILogger<SmtpClientPool> logger) : IAsyncDisposable
{
    private readonly SmtpOptions _options = options.Value;
    private readonly PrivateCertificateAuthority? _certificateCheck = PrivateCertificateAuthority.FromFile(options.Value.CaCertificate);
    private readonly SemaphoreSlim _slots = new(options.Value.Connections, options.Value.Connections);
    private readonly ConcurrentQueue<RecipientRecordingSmtpClient> _idle = new();

    /// <summary>Sends one message; returns the relay's final reply and the recipients it refused.</summary>
    /// <param name="sender">the envelope sender (MAIL FROM), also asking for DSNs with the job id as ENVID; null: the message's own sender.</param>
    /// <param name="envelope">the recipients to give the relay; null: every recipient of the message (To, Cc, Bcc).</param>
    /// <exception cref="RecipientsRefusedException">the relay refused every recipient.</exception>
    public async Task<SendResult> SendAsync(MimeMessage message, MailboxAddress? sender, IReadOnlyList<MailboxAddress>? envelope,
        CancellationToken cancellationToken)
    {
        await _slots.WaitAsync(cancellationToken);
        RecipientRecordingSmtpClient? client = null;
        var reused = false;
        try
        {
            if (_idle.TryDequeue(out client) && client.IsConnected)
            {
                reused = true;
            }
            else
            {
                client?.Dispose();
                client = null;
                client = await ConnectAsync(cancellationToken);
            }
            client.StartSend(askForReports: sender is not null);
            var reply = envelope is null && sender is null
                ? await client.SendAsync(message, cancellationToken)
                : await client.SendAsync(message, sender ?? message.Sender ?? message.From.Mailboxes.First(),
                    envelope ?? MimeMessageFactory.AllRecipients(message), cancellationToken);
            var refused = client.Refused.ToArray();
            var tls = client.IsSecure;
            _idle.Enqueue(client);
            client = null;
            return new SendResult(reply, refused, $"{_options.Host}:{_options.Port}", tls);
        }
        catch (Exception ex) when (reused && ex is IOException or SmtpProtocolException or ServiceNotConnectedException)
        {
            throw new StaleSmtpConnectionException(ex);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            // Not ours: the relay did not answer within Smtp:Timeout.
            throw new TimeoutException($"the relay did not answer within {_options.Timeout.TotalSeconds:0.#} s (Smtp:Timeout)", ex);
        }
        finally
        {
            if (client is not null)
                await DiscardAsync(client);
            _slots.Release();
        }
    }

    /// <summary>Whether the relay answers a fresh connection (and NOOP) now, without sending anything.</summary>
    public async Task<bool> ProbeAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var client = await ConnectAsync(cancellationToken);
            await client.NoOpAsync(cancellationToken);
            await client.DisconnectAsync(quit: true, cancellationToken);
            return true;
        }
        catch (Exception ex) when (SmtpFailure.IsRelayDown(ex) || ex is SmtpCommandException)
        {
            return false;
        }
    }

    private async Task<RecipientRecordingSmtpClient> ConnectAsync(CancellationToken cancellationToken)
    {
        var client = new RecipientRecordingSmtpClient { Timeout = (int)_options.Timeout.TotalMilliseconds };
        if (_certificateCheck is not null)
            client.ServerCertificateValidationCallback = _certificateCheck.Validate;
        try
        {
            await client.ConnectAsync(_options.Host, _options.Port, ToMailKit(_options.Security), cancellationToken);
            if (_options.HasCredentials)
            {
                // Auto falls back to plaintext when the relay offers no STARTTLS: the password must not go out that way.
                if (!client.IsSecure)
                    throw new MailKit.Security.AuthenticationException(
                        $"the relay {_options.Host}:{_options.Port} offers no TLS; refusing to send Smtp:Username/Password in plaintext");
                await client.AuthenticateAsync(_options.Username!, _options.Password ?? "", cancellationToken);
            }
            logger.LogDebug("Opened SMTP connection to {Host}:{Port}", _options.Host, _options.Port);
            return client;
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    private static async Task DiscardAsync(SmtpClient client)
    {
        try
        {
            if (client.IsConnected)
                await client.DisconnectAsync(quit: false);
        }
        catch (Exception ex) when (ex is IOException or SmtpProtocolException or OperationCanceledException)
        {
            // The session is being thrown away; how it ends does not matter.
        }
        finally
        {
            client.Dispose();
        }
    }

    private static SecureSocketOptions ToMailKit(SmtpSecurity security) => security switch
    {
        SmtpSecurity.None => SecureSocketOptions.None,
        SmtpSecurity.StartTls => SecureSocketOptions.StartTls,
        SmtpSecurity.SslOnConnect => SecureSocketOptions.SslOnConnect,
        _ => SecureSocketOptions.Auto,
    };

    public async ValueTask DisposeAsync()
    {
        while (_idle.TryDequeue(out var client))
        {
            try
            {
                if (client.IsConnected)
                    await client.DisconnectAsync(quit: true);
            }
            catch (Exception ex) when (ex is IOException or SmtpProtocolException or SmtpCommandException)
            {
                // Closing anyway.
            }
            client.Dispose();
        }
        _slots.Dispose();
    }
}
