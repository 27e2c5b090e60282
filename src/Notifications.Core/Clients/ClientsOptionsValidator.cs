using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;
using Notifications.Core.Contract;

namespace Notifications.Core.Clients;

/// <summary>Each client's keys, senders and rate make sense; no key hash belongs to two clients.</summary>
public sealed partial class ClientsOptionsValidator : IValidateOptions<ClientsOptions>
{
    public ValidateOptionsResult Validate(string? name, ClientsOptions options)
    {
        var failures = new List<string>();
        var owners = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (client, settings) in options.ByName)
        {
            var at = $"{ClientsOptions.Section}:{client}";
            if (!ClientName().IsMatch(client))
                failures.Add($"{at}: a client name is 1 to 64 letters, digits, '.', '_' or '-'");
            if (settings.KeyHashes.Count is 0 or > 2)
                failures.Add($"{at}:KeyHashes must hold one key hash, or two while a key is rotated (scripts/new-key.sh prints one)");
            for (var i = 0; i < settings.KeyHashes.Count; i++)
            {
                var hash = settings.KeyHashes[i];
                if (!KeyHash().IsMatch(hash))
                    failures.Add($"{at}:KeyHashes:{i} must be the lowercase hex SHA-256 of a key (64 characters), not the key itself");
                else if (!owners.TryAdd(hash, client))
                    failures.Add($"{at}:KeyHashes:{i} is also a key of client '{owners[hash]}'");
            }
            if (settings.AllowedFrom.Count == 0 && !settings.Operator)
                failures.Add($"{at}:AllowedFrom needs at least one sender (the first is the client's default from)");
            for (var i = 0; i < settings.AllowedFrom.Count; i++)
                if (!EmailAddresses.TryParseMailbox(settings.AllowedFrom[i], out _, out var error))
                    failures.Add($"{at}:AllowedFrom:{i}: {error}");
            if (!settings.Mode.Equals(ClientModes.Live, StringComparison.OrdinalIgnoreCase) && !settings.Mode.Equals(ClientModes.Test, StringComparison.OrdinalIgnoreCase))
                failures.Add($"{at}:Mode must be Live or Test, not '{settings.Mode}'");
            if (settings.RatePerSecond < 0 || settings.Burst < 0)
                failures.Add($"{at}: RatePerSecond and Burst must be 0 (no limit) or more");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    [GeneratedRegex("^[A-Za-z0-9._-]{1,64}$")]
    private static partial Regex ClientName();

    [GeneratedRegex("^[0-9a-f]{64}$")]
    private static partial Regex KeyHash();
}
