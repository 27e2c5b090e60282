using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Configuration;
using Notifications.Core.Configuration;

namespace Notifications.Core.Clients;

public static class ClientsRegistration
{
    /// <summary>The <c>Auth</c> and <c>Clients</c> sections, checked at start-up, and the registry built from them.</summary>
    public static IHostApplicationBuilder AddClients(this IHostApplicationBuilder builder)
    {
        builder.AddValidatedOptions<AuthOptions>(AuthOptions.Section);
        builder.Services.AddOptions<ClientsOptions>()
            .Configure(options => builder.Configuration.GetSection(ClientsOptions.Section).Bind(options.ByName))
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<ClientsOptions>, ClientsOptionsValidator>();
        builder.Services.AddSingleton<ClientRegistry>();
        return builder;
    }
}
