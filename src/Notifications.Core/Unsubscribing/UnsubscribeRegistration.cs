using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Notifications.Core.Configuration;

namespace Notifications.Core.Unsubscribing;

public static class UnsubscribeRegistration
{
    /// <summary>The <c>Unsubscribe</c> options, checked at start-up, and the tokens (the worker makes them, the API reads them).</summary>
    public static IHostApplicationBuilder AddUnsubscribeLinks(this IHostApplicationBuilder builder)
    {
        builder.AddValidatedOptions<UnsubscribeOptions>(UnsubscribeOptions.Section);
        builder.Services.AddSingleton<IValidateOptions<UnsubscribeOptions>, UnsubscribeOptions.Validator>();
        builder.Services.AddSingleton<UnsubscribeTokens>();
        return builder;
    }
}
