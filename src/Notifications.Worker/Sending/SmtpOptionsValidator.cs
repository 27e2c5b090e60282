using Microsoft.Extensions.Options;
using Notifications.Core.Configuration;

namespace Notifications.Worker.Sending;

public sealed class SmtpOptionsValidator : IValidateOptions<SmtpOptions>
{
    public ValidateOptionsResult Validate(string? name, SmtpOptions options)
    {
        if (PrivateCertificateAuthority.Problem("Smtp:CaCertificate", options.CaCertificate) is { } problem)
            return ValidateOptionsResult.Fail(problem);
        foreach (var (domain, rate) in options.DomainLimits)
        {
            if (!DomainPacer.IsDomainName(domain))
                return ValidateOptionsResult.Fail($"Smtp:DomainLimits: '{domain}' is not a domain name (like gmail.com)");
            if (!(rate > 0) || double.IsInfinity(rate))
                return ValidateOptionsResult.Fail($"Smtp:DomainLimits:{domain} must be a number of mails a second above 0 (remove the entry for no limit)");
        }
        return ValidateOptionsResult.Success;
    }
}
