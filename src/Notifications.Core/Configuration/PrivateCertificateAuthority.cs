using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace Notifications.Core.Configuration;

/// <summary>
/// Trusts a server certificate issued by a private CA (<c>Smtp:CaCertificate</c>, <c>RabbitMq:CaCertificate</c>),
/// only for the name connected to, as well as anything the system trusts.
/// </summary>
public sealed class PrivateCertificateAuthority(X509Certificate2 authority)
{
    /// <param name="pemOrDerFile">the CA's certificate; null or empty: none (the system's trust alone).</param>
    public static PrivateCertificateAuthority? FromFile(string? pemOrDerFile) =>
        string.IsNullOrWhiteSpace(pemOrDerFile)
            ? null
            : new PrivateCertificateAuthority(X509CertificateLoader.LoadCertificateFromFile(pemOrDerFile));

    /// <summary>Start-up's check of a configured file: null when usable, else one line naming <paramref name="key"/>.</summary>
    public static string? Problem(string key, string? pemOrDerFile)
    {
        if (string.IsNullOrWhiteSpace(pemOrDerFile))
            return null;
        if (!File.Exists(pemOrDerFile))
            return $"{key}: no file at '{pemOrDerFile}'";
        try
        {
            using var certificate = X509CertificateLoader.LoadCertificateFromFile(pemOrDerFile);
            return null;
        }
        catch (System.Security.Cryptography.CryptographicException ex)
        {
            return $"{key}: '{pemOrDerFile}' is not a PEM or DER certificate ({ex.Message})";
        }
    }

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
