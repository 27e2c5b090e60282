using System.Security.Cryptography;
using Org.BouncyCastle.Crypto.Generators;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Security;
using Org.BouncyCastle.Pkcs;

namespace Notifications.Tests.Infrastructure;

/// <summary>
/// Signing keys made for one test, RSA 2048 and Ed25519, in PEM files of a temporary folder (deleted at dispose), and the
/// DNS TXT record each would publish, so verifiers can find the public key without DNS.
/// </summary>
public sealed class DkimTestKeys : IDisposable
{
    public const string Domain = "example.com";
    public const string RsaSelector = "ntf-rsa";
    public const string Ed25519Selector = "ntf-ed";

    private readonly string _folder = Directory.CreateTempSubdirectory("dkim-keys-").FullName;

    public DkimTestKeys()
    {
        using var rsa = RSA.Create(2048);
        RsaFile = Write("rsa.pem", rsa.ExportPkcs8PrivateKeyPem());
        Records[$"{RsaSelector}._domainkey.{Domain}"] = $"v=DKIM1; k=rsa; p={Convert.ToBase64String(rsa.ExportSubjectPublicKeyInfo())}";

        var generator = new Ed25519KeyPairGenerator();
        generator.Init(new Ed25519KeyGenerationParameters(new SecureRandom()));
        var pair = generator.GenerateKeyPair();
        Ed25519File = Write("ed25519.pem", PemEncoding.WriteString("PRIVATE KEY", PrivateKeyInfoFactory.CreatePrivateKeyInfo(pair.Private).GetEncoded()));
        Records[$"{Ed25519Selector}._domainkey.{Domain}"] = $"v=DKIM1; k=ed25519; p={Convert.ToBase64String(((Ed25519PublicKeyParameters)pair.Public).GetEncoded())}";
    }

    public string RsaFile { get; }
    public string Ed25519File { get; }

    /// <summary>TXT record by name (<c>selector._domainkey.domain</c>).</summary>
    public Dictionary<string, string> Records { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The worker's settings for both keys of <see cref="Domain"/>.</summary>
    public void Configure(Dictionary<string, string?> settings)
    {
        settings["Dkim:Keys:0:Domain"] = Domain;
        settings["Dkim:Keys:0:Selector"] = RsaSelector;
        settings["Dkim:Keys:0:KeyFile"] = RsaFile;
        settings["Dkim:Keys:1:Domain"] = Domain;
        settings["Dkim:Keys:1:Selector"] = Ed25519Selector;
        settings["Dkim:Keys:1:KeyFile"] = Ed25519File;
    }

    /// <summary>A file of the test's own, in the keys' folder.</summary>
    public string Write(string name, string text)
    {
        var path = Path.Combine(_folder, name);
        File.WriteAllText(path, text);
        return path;
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}
