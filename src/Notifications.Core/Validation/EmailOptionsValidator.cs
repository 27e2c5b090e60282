using Microsoft.Extensions.Options;
using Notifications.Core.Contract;

namespace Notifications.Core.Validation;

/// <summary>Checks what data annotations cannot: that the configured senders are addresses.</summary>
public sealed class EmailOptionsValidator : IValidateOptions<EmailOptions>
{
    public ValidateOptionsResult Validate(string? name, EmailOptions options)
    {
        var failures = new List<string>();
        if (!string.IsNullOrWhiteSpace(options.DefaultFrom)
            && !EmailAddresses.TryParseMailbox(options.DefaultFrom, out _, out var error))
            failures.Add($"Email:DefaultFrom: {error}");
        for (var i = 0; i < options.AllowedFrom.Count; i++)
            if (!EmailAddresses.TryParseMailbox(options.AllowedFrom[i], out _, out var allowedError))
                failures.Add($"Email:AllowedFrom:{i}: {allowedError}");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
