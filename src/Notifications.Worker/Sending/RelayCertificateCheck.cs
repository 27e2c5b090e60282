using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace Notifications.Worker.Sending;

/// <summary>
/// Trusts a relay certificate issued by the private CA of <c>Smtp:CaCertificate</c> (and only for the name the
/// worker connects to), as well as anything the system trusts.
/// </summary>
public sealed class RelayCertificateCheck(X509Certificate2 authority)
{
    public static RelayCertificateCheck? FromOptions(SmtpOptions options) =>
        string.IsNullOrWhiteSpace(options.CaCertificate)
            ? null
            : new RelayCertificateCheck(X509CertificateLoader.LoadCertificateFromFile(options.CaCertificate));

    public bool Validate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (errors == SslPolicyErrors.None)
            return true;
        if (certificate is null || errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch)
            || errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable))
            return false;
        using var custom = new X509Chain();
        custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        custom.ChainPolicy.CustomTrustStore.Add(authority);
        custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (chain is not null)
            custom.ChainPolicy.ExtraStore.AddRange(chain.ChainElements.Select(e => e.Certificate).ToArray());
        return custom.Build(certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()));
    }
}
