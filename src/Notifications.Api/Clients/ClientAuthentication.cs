using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using Notifications.Core.Clients;

namespace Notifications.Api.Clients;

public static class ClientAuthentication
{
    /// <summary>The policy of the API's endpoints: a client's key, or (Auth:Required=false) no key at all — never a wrong one.</summary>
    public const string Policy = "client";

    public static IHostApplicationBuilder AddClientAuthentication(this IHostApplicationBuilder builder)
    {
        builder.Services.AddAuthentication(ApiKeyAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null);
        var required = builder.Configuration.GetValue(AuthOptions.Section + ":" + nameof(AuthOptions.Required), true);
        builder.Services.AddAuthorizationBuilder().AddPolicy(Policy, policy => policy.RequireAssertion(context =>
            context.User.Identity?.IsAuthenticated == true
            || (!required && context.Resource is HttpContext http && http.Request.Headers.Authorization.Count == 0)));
        builder.Services.AddSingleton<IValidateOptions<ClientsOptions>, ClientsRequired>();
        return builder;
    }

    /// <summary>Keys required and no client configured: nobody could send; say how to fix it.</summary>
    private sealed class ClientsRequired(IOptions<AuthOptions> auth) : IValidateOptions<ClientsOptions>
    {
        public ValidateOptionsResult Validate(string? name, ClientsOptions options) =>
            auth.Value.Required && options.ByName.Count == 0
                ? ValidateOptionsResult.Fail("Auth:Required is true but no Clients are configured: add Clients:<name>:KeyHashes and " +
                    "Clients:<name>:AllowedFrom (scripts/new-key.sh prints a key and its hash), or set Auth:Required=false on a closed network")
                : ValidateOptionsResult.Success;
    }
}
