using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using MimeKit;
using Notifications.Tests.Infrastructure;
using Notifications.Worker.Sending;

namespace Notifications.Tests.Integration;

/// <summary>The relay over TLS, with a certificate the test makes and Smtp:CaCertificate trusting it.</summary>
public sealed class SmtpTlsTests
{
    [Theory]
    [InlineData("StartTls", false)]
    [InlineData("SslOnConnect", true)]
    public async Task Mail_goes_to_a_relay_over_tls_whose_certificate_a_private_CA_issued(string security, bool tlsOnConnect)
    {
        using var certificate = TestCertificate.Create();
        await using var pipeline = await Pipeline.StartAsync(relay: new TestRelay(certificate.Certificate, tlsOnConnect), configure: s =>
        {
            s["Smtp:Security"] = security;
            s["Smtp:CaCertificate"] = certificate.PemPath;
        });

        var id = await Jobs.PostAndGetIdAsync(pipeline.Http, Jobs.Valid($"over {security}"));

        await Eventually.TrueAsync(() => pipeline.Relay.AcceptedJobIds.Contains(id), $"the mail over {security}");
    }

    [Fact]
    public async Task A_relay_certificate_no_trusted_CA_issued_is_refused()
    {
        using var certificate = TestCertificate.Create();
        await using var relay = new TestRelay(certificate.Certificate, tlsOnConnect: true);
        await using var pool = Pool(relay.Port, SmtpSecurity.SslOnConnect, caCertificate: null);

        await Assert.ThrowsAsync<MailKit.Security.SslHandshakeException>(() => pool.SendAsync(Message(), null, null, CancellationToken.None));
        Assert.Empty(relay.Accepted);
    }

    [Fact]
    public async Task Credentials_are_never_sent_to_a_relay_that_offers_no_tls()
    {
        await using var relay = new TestRelay();
        await using var pool = Pool(relay.Port, SmtpSecurity.Auto, caCertificate: null, username: "mailer", password: "s3cret");

        var refused = await Assert.ThrowsAsync<MailKit.Security.AuthenticationException>(() => pool.SendAsync(Message(), null, null, CancellationToken.None));

        Assert.Contains("refusing to send Smtp:Username/Password in plaintext", refused.Message);
        Assert.DoesNotContain("s3cret", refused.Message);
        Assert.Empty(relay.Accepted);
    }

    private static SmtpClientPool Pool(int port, SmtpSecurity security, string? caCertificate, string? username = null, string? password = null) =>
        new(Options.Create(new SmtpOptions
        {
            Host = "127.0.0.1", Port = port, Security = security, CaCertificate = caCertificate,
            Username = username, Password = password, Timeout = TimeSpan.FromSeconds(5),
        }), NullLogger<SmtpClientPool>.Instance);

    private static MimeMessage Message() => new(
        [new MailboxAddress("Shop", "shop@example.com")], [new MailboxAddress("Alice", "alice@example.com")], "tls", new TextPart("plain") { Text = "hi" });
}
