using Microsoft.Extensions.Options;
using Notifications.Core.Clients;

namespace Notifications.Worker.Signing;

/// <summary>
/// At start-up: every key loads and can sign (one line naming a bad one, never its contents); with <c>Dkim:Required</c>,
/// every domain a client may send from has a key.
/// </summary>
public sealed class DkimOptionsValidator(ClientRegistry clients) : IValidateOptions<DkimOptions>
{
    public ValidateOptionsResult Validate(string? name, DkimOptions options)
    {
        var failures = new List<string>();
        var domains = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < options.Keys.Count; i++)
        {
            try
            {
                domains.Add(DkimKey.Load(options.Keys[i], $"Dkim:Keys:{i}").Domain);
            }
            catch (InvalidOperationException ex)
            {
                failures.Add(ex.Message);
            }
        }
        if (options.Required && failures.Count == 0)
            foreach (var client in clients.All)
                foreach (var domain in client.SenderAddresses.Select(a => a[(a.LastIndexOf('@') + 1)..]).Distinct(StringComparer.OrdinalIgnoreCase))
                    if (!domains.Contains(domain))
                        failures.Add($"Dkim:Required is true but client '{client.Name}' may send from {domain}, which has no key in Dkim:Keys " +
                            "(scripts/dkim-key.sh makes one)");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
