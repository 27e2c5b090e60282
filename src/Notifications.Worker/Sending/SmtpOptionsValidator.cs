using Microsoft.Extensions.Options;
using Notifications.Core.Configuration;

namespace Notifications.Worker.Sending;

public sealed class SmtpOptionsValidator : IValidateOptions<SmtpOptions>
{
    public ValidateOptionsResult Validate(string? name, SmtpOptions options) =>
        PrivateCertificateAuthority.Problem("Smtp:CaCertificate", options.CaCertificate) is { } problem
            ? ValidateOptionsResult.Fail(problem)
            : ValidateOptionsResult.Success;
}
