using Microsoft.Extensions.Options;

namespace Notifications.Core.Unsubscribing;

/// <summary>The <c>Unsubscribe</c> section: where one-click unsubscribe links point, and the secret their tokens are made with.</summary>
public sealed class UnsubscribeOptions
{
    public const string Section = "Unsubscribe";

    /// <summary>The public https address of the API (<c>https://mail.example.com</c>); links are <c>{BaseUrl}/unsubscribe/{token}</c>. Empty: list mail is refused.</summary>
    public string BaseUrl { get; set; } = "";

    /// <summary>At least 32 characters of randomness; never logged. API and worker share it.</summary>
    public string Secret { get; set; } = "";

    /// <summary>Secrets rotated out: links made with one keep working until its <c>Until</c>.</summary>
    public List<PreviousSecret> PreviousSecrets { get; set; } = [];

    /// <summary>Unsubscribe requests one remote address may make a minute (the public endpoints are rate-limited).</summary>
    public int PerAddressPerMinute { get; set; } = 60;

    public bool Enabled => BaseUrl.Length > 0;

    public sealed class PreviousSecret
    {
        public string Secret { get; set; } = "";
        public DateTimeOffset Until { get; set; }
    }

    /// <summary>A https base URL (http only for a loopback address), and a secret long enough when links are on. Never says a secret.</summary>
    public sealed class Validator : IValidateOptions<UnsubscribeOptions>
    {
        public const int MinSecretLength = 32;

        public ValidateOptionsResult Validate(string? name, UnsubscribeOptions options)
        {
            var failures = new List<string>();
            if (options.BaseUrl.Length > 0)
            {
                if (!Uri.TryCreate(options.BaseUrl, UriKind.Absolute, out var url) || url.Scheme is not ("https" or "http")
                    || (url.Scheme == "http" && !url.IsLoopback) || url.Query.Length > 0 || url.Fragment.Length > 0 || url.UserInfo.Length > 0)
                    failures.Add("Unsubscribe:BaseUrl must be an absolute https URL without query, fragment or user (http only for 127.0.0.1/localhost), " +
                        "e.g. https://mail.example.com");
                if (options.Secret.Length < MinSecretLength)
                    failures.Add($"Unsubscribe:Secret must hold at least {MinSecretLength} characters when Unsubscribe:BaseUrl is set " +
                        "(openssl rand -base64 32)");
            }
            for (var i = 0; i < options.PreviousSecrets.Count; i++)
                if (options.PreviousSecrets[i].Secret.Length < MinSecretLength)
                    failures.Add($"Unsubscribe:PreviousSecrets:{i}:Secret must hold at least {MinSecretLength} characters");
            if (options.PerAddressPerMinute is < 1 or > 100_000)
                failures.Add("Unsubscribe:PerAddressPerMinute must be between 1 and 100000");
            return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
        }
    }
}
