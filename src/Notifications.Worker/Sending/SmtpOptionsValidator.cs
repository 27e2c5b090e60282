using Microsoft.Extensions.Options;

namespace Notifications.Worker.Sending;

public sealed class SmtpOptionsValidator : IValidateOptions<SmtpOptions>
{
    public ValidateOptionsResult Validate(string? name, SmtpOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.CaCertificate))
            return ValidateOptionsResult.Success;
        if (!File.Exists(options.CaCertificate))
            return ValidateOptionsResult.Fail($"Smtp:CaCertificate: no file at '{options.CaCertificate}'");
        try
        {
            using var certificate = System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadCertificateFromFile(options.CaCertificate);
            return ValidateOptionsResult.Success;
        }
        catch (System.Security.Cryptography.CryptographicException ex)
        {
            return ValidateOptionsResult.Fail($"Smtp:CaCertificate: '{options.CaCertificate}' is not a PEM or DER certificate ({ex.Message})");
        }
    }
}
