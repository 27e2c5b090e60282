using System.Net;
using Microsoft.Extensions.Options;
using Notifications.Core.Clients;

namespace Notifications.Core.Webhooks;

/// <summary>
/// Every client's webhook at start-up: an absolute https URL (http only to a loopback host, unless
/// <c>Webhooks:AllowHttp</c>), without credentials in it, and a secret in the Standard Webhooks form. The secret's value
/// never appears in a message.
/// </summary>
public sealed class WebhookTargetsValidator(IOptions<WebhookOptions> webhooks) : IValidateOptions<ClientsOptions>
{
    public ValidateOptionsResult Validate(string? name, ClientsOptions options)
    {
        var failures = new List<string>();
        foreach (var (client, settings) in options.ByName)
        {
            if (settings.Webhook is not { } webhook || (string.IsNullOrEmpty(webhook.Url) && string.IsNullOrEmpty(webhook.Secret)))
                continue;
            var at = $"{ClientsOptions.Section}:{client}:Webhook";
            if (UrlProblem(webhook.Url, webhooks.Value.AllowHttp) is { } problem)
                failures.Add($"{at}:Url {problem}");
            if (WebhookSecret.Problem(webhook.Secret) is { } secretProblem)
                failures.Add($"{at}:Secret {secretProblem}");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    public static string? UrlProblem(string? url, bool allowHttp)
    {
        if (string.IsNullOrWhiteSpace(url))
            return "is required with Webhook:Secret";
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.Host.Length == 0)
            return "must be an absolute http(s) URL";
        if (uri.UserInfo.Length > 0)
            return "must not carry a user or password (the signature authenticates the service)";
        if (uri.Scheme == "http" && !allowHttp && !IsLoopback(uri))
            return "must be https (http only to 127.0.0.1/localhost, or set Webhooks:AllowHttp=true)";
        return null;
    }

    private static bool IsLoopback(Uri uri) =>
        uri.IsLoopback || IPAddress.TryParse(uri.Host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address);
}
