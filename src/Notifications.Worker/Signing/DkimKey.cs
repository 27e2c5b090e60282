using System.Security.Cryptography;
using System.Text.RegularExpressions;
using MimeKit.Cryptography;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.OpenSsl;
using Org.BouncyCastle.X509;

namespace Notifications.Worker.Signing;

/// <summary>
/// A loaded signing key: its domain, selector, algorithm (from the key itself), when it starts to sign, the signer made
/// once from it, and its DNS record. The key file is read once; its contents never leave this object.
/// </summary>
public sealed partial class DkimKey
{
    private DkimKey(string domain, string selector, DkimSignatureAlgorithm algorithm, DateTimeOffset notBefore, DkimSigner signer, string publicKey)
    {
        Domain = domain;
        Selector = selector;
        Algorithm = algorithm;
        NotBefore = notBefore;
        Signer = signer;
        PublicKey = publicKey;
    }

    public string Domain { get; }
    public string Selector { get; }
    public DkimSignatureAlgorithm Algorithm { get; }
    public DateTimeOffset NotBefore { get; }
    public DkimSigner Signer { get; }

    /// <summary>The public key as the DNS record's <c>p=</c> holds it.</summary>
    public string PublicKey { get; }

    /// <summary>The TXT record's name: <c>&lt;selector&gt;._domainkey.&lt;domain&gt;</c>.</summary>
    public string RecordName => $"{Selector}._domainkey.{Domain}";

    /// <summary>The TXT record's value.</summary>
    public string RecordValue => $"v=DKIM1; k={(Algorithm == DkimSignatureAlgorithm.Ed25519Sha256 ? "ed25519" : "rsa")}; p={PublicKey}";

    /// <summary>Reads and checks one configured key.</summary>
    /// <param name="name">how the configuration names it, for the one line that says what is wrong with it.</param>
    /// <exception cref="InvalidOperationException">the key cannot sign: the message names it and says why, never its contents.</exception>
    public static DkimKey Load(DkimKeyOptions options, string name)
    {
        var domain = options.Domain.Trim().TrimEnd('.').ToLowerInvariant();
        var selector = options.Selector.Trim();
        var label = $"{name} ({domain}, selector {selector})";
        if (!DomainName().IsMatch(domain))
            throw new InvalidOperationException($"{name}: Domain '{options.Domain}' is not a domain name");
        if (!SelectorName().IsMatch(selector))
            throw new InvalidOperationException($"{name}: Selector '{options.Selector}' is not a DNS label (letters, digits, '-', dots between labels)");
        if (string.IsNullOrWhiteSpace(options.KeyFile))
            throw new InvalidOperationException($"{label}: KeyFile is required");
        var path = Path.IsPathRooted(options.KeyFile) ? options.KeyFile : Path.Combine(AppContext.BaseDirectory, options.KeyFile);
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new InvalidOperationException($"{label}: key file {path} does not exist");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException($"{label}: key file {path} cannot be read ({ex.GetType().Name})");
        }
        object? pem;
        try
        {
            using var reader = new PemReader(new StringReader(text));
            pem = reader.ReadObject();
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Whatever the parser says about a broken key, it is said without the key's contents.
            throw new InvalidOperationException($"{label}: key file {path} is not a PEM private key");
        }
        var key = pem switch
        {
            AsymmetricCipherKeyPair pair => pair.Private,
            AsymmetricKeyParameter { IsPrivate: true } single => single,
            _ => throw new InvalidOperationException($"{label}: key file {path} holds no private key"),
        };
        var (algorithm, publicKey) = key switch
        {
            RsaPrivateCrtKeyParameters rsa when rsa.Modulus.BitLength < 1024 =>
                throw new InvalidOperationException($"{label}: an RSA key of {rsa.Modulus.BitLength} bits is too short to sign (at least 1024; 2048 advised)"),
            RsaPrivateCrtKeyParameters rsa => (DkimSignatureAlgorithm.RsaSha256, Convert.ToBase64String(
                SubjectPublicKeyInfoFactory.CreateSubjectPublicKeyInfo(new RsaKeyParameters(false, rsa.Modulus, rsa.PublicExponent)).GetDerEncoded())),
            Ed25519PrivateKeyParameters ed => (DkimSignatureAlgorithm.Ed25519Sha256, Convert.ToBase64String(ed.GeneratePublicKey().GetEncoded())),
            _ => throw new InvalidOperationException($"{label}: key file {path} is neither an RSA nor an Ed25519 private key"),
        };
        DkimSigner signer = algorithm == DkimSignatureAlgorithm.RsaSha256
            ? new NativeRsaDkimSigner(key, NativeRsa(text), domain, selector)
            : new DkimSigner(key, domain, selector, algorithm);
        signer.HeaderCanonicalizationAlgorithm = DkimCanonicalizationAlgorithm.Relaxed;
        signer.BodyCanonicalizationAlgorithm = DkimCanonicalizationAlgorithm.Relaxed;
        return new DkimKey(domain, selector, algorithm, options.NotBefore ?? DateTimeOffset.MinValue, signer, publicKey);
    }

    /// <summary>The same RSA key for .NET's (OpenSSL's) signing.</summary>
    private static RSA NativeRsa(string pem)
    {
        var rsa = RSA.Create();
        rsa.ImportFromPem(pem);
        return rsa;
    }

    [GeneratedRegex(@"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$")]
    private static partial Regex DomainName();

    [GeneratedRegex(@"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$")]
    private static partial Regex SelectorName();
}
