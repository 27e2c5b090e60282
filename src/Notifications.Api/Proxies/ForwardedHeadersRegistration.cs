using System.Net;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.Options;

namespace Notifications.Api.Proxies;

/// <summary>
/// <c>Api:ForwardedHeaders</c>: the TLS proxies in front of the API. Only from those addresses are <c>X-Forwarded-For</c>
/// and <c>X-Forwarded-Proto</c> believed, so per-address limits (the unsubscribe link's) key on the real caller,
/// console cookies are <c>Secure</c> and links are https. Empty by default: nobody is believed, not even loopback.
/// </summary>
public sealed class ForwardedHeadersSettings
{
    public const string Section = "Api:ForwardedHeaders";

    /// <summary>Addresses of the proxies (<c>10.0.0.5</c>, <c>::1</c>).</summary>
    public List<string> KnownProxies { get; set; } = [];

    /// <summary>Networks of the proxies, in CIDR (<c>10.0.0.0/24</c>).</summary>
    public List<string> KnownNetworks { get; set; } = [];

    public sealed class Validator : IValidateOptions<ForwardedHeadersSettings>
    {
        public ValidateOptionsResult Validate(string? name, ForwardedHeadersSettings options)
        {
            var failures = options.KnownProxies.Where(p => !IPAddress.TryParse(p, out _))
                .Select(p => $"Api:ForwardedHeaders:KnownProxies: '{p}' is not an IP address")
                .Concat(options.KnownNetworks.Where(n => !System.Net.IPNetwork.TryParse(n, out _))
                    .Select(n => $"Api:ForwardedHeaders:KnownNetworks: '{n}' is not a network in CIDR form such as 10.0.0.0/24"))
                .ToList();
            return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
        }
    }
}

public static class ForwardedHeadersRegistration
{
    public static IHostApplicationBuilder AddTrustedProxies(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<ForwardedHeadersSettings>().Bind(builder.Configuration.GetSection(ForwardedHeadersSettings.Section)).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<ForwardedHeadersSettings>, ForwardedHeadersSettings.Validator>();
        builder.Services.AddOptions<ForwardedHeadersOptions>().Configure<IOptions<ForwardedHeadersSettings>>((forwarded, settings) =>
        {
            // With no known proxy the middleware would believe everyone: then it reads no header at all.
            forwarded.ForwardedHeaders = settings.Value.KnownProxies.Count + settings.Value.KnownNetworks.Count == 0
                ? ForwardedHeaders.None
                : ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            // ASP.NET Core trusts loopback by default; ours trusts only what is configured.
            forwarded.KnownProxies.Clear();
            forwarded.KnownIPNetworks.Clear();
#pragma warning disable ASPDEPR005 // the older list of networks is still read by the middleware, and holds loopback by default
            forwarded.KnownNetworks.Clear();
#pragma warning restore ASPDEPR005
            foreach (var proxy in settings.Value.KnownProxies)
                forwarded.KnownProxies.Add(IPAddress.Parse(proxy));
            foreach (var network in settings.Value.KnownNetworks)
                forwarded.KnownIPNetworks.Add(System.Net.IPNetwork.Parse(network));
        });
        return builder;
    }
}
