using Microsoft.Extensions.Options;
using Notifications.Core.Store;

namespace Notifications.Worker.Sending;

/// <summary>
/// A send claim is renewed every third of <c>Store:SendLease</c> while the send lasts; the lease must still
/// outlast one SMTP command that hangs for <c>Smtp:Timeout</c> while a renewal is lost, or a second worker could mail the job.
/// </summary>
public sealed class SendLeaseValidator(IOptions<SmtpOptions> smtp) : IValidateOptions<StoreOptions>
{
    public ValidateOptionsResult Validate(string? name, StoreOptions options)
    {
        var timeout = smtp.Value.Timeout;
        return options.SendLease > timeout
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail(
                $"Store:SendLease ({options.SendLease}) must be longer than Smtp:Timeout ({timeout}), or a slow send could be mailed twice");
    }
}
