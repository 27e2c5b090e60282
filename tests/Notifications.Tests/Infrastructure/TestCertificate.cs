using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Notifications.Tests.Infrastructure;

/// <summary>A self-signed certificate for 127.0.0.1 and localhost, made by the test, and its PEM file for <c>Smtp:CaCertificate</c>.</summary>
public sealed class TestCertificate : IDisposable
{
    private TestCertificate(X509Certificate2 certificate, string pemPath, string keyPemPath)
    {
        Certificate = certificate;
        PemPath = pemPath;
        KeyPemPath = keyPemPath;
    }

    /// <summary>With its private key, for the server.</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>The public certificate alone, for the client to trust.</summary>
    public string PemPath { get; }

    /// <summary>The private key, PEM: with <see cref="PemPath"/> a server's pair (<c>Submission:Certificate</c>, <c>…Key</c>).</summary>
    public string KeyPemPath { get; }

    public static TestCertificate Create()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=notifications test relay", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, false, 0, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        using var ephemeral = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        // Through PKCS#12 so the key is usable by SslStream on every platform.
        var certificate = X509CertificateLoader.LoadPkcs12(ephemeral.Export(X509ContentType.Pkcs12), null);
        var pemPath = Path.Combine(Path.GetTempPath(), $"notifications-test-ca-{Guid.NewGuid():N}.pem");
        File.WriteAllText(pemPath, certificate.ExportCertificatePem());
        var keyPemPath = Path.ChangeExtension(pemPath, ".key.pem");
        File.WriteAllText(keyPemPath, certificate.GetRSAPrivateKey()!.ExportPkcs8PrivateKeyPem());
        return new TestCertificate(certificate, pemPath, keyPemPath);
    }

    public void Dispose()
    {
        Certificate.Dispose();
        File.Delete(PemPath);
        File.Delete(KeyPemPath);
    }
}
