using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Notifications.Core.Configuration;
using Notifications.Core.Reputation;

namespace Notifications.Core.Bounces;

public static class BouncesRegistration
{
    /// <summary>The <c>Bounces</c> options, checked at start-up, and the return paths (the worker makes them, the consumer reads them).</summary>
    public static IHostApplicationBuilder AddReturnPaths(this IHostApplicationBuilder builder)
    {
        builder.AddValidatedOptions<BouncesOptions>(BouncesOptions.Section);
        builder.Services.AddSingleton<IValidateOptions<BouncesOptions>, BouncesOptions.Validator>();
        builder.Services.AddSingleton<ReturnPath>();
        return builder;
    }

    /// <summary>The <c>Reputation</c> options (and every client's overrides), checked at start-up.</summary>
    public static IHostApplicationBuilder AddReputationOptions(this IHostApplicationBuilder builder)
    {
        builder.AddValidatedOptions<ReputationOptions>(ReputationOptions.Section);
        builder.Services.AddSingleton<IValidateOptions<ReputationOptions>, ReputationOptions.Validator>();
        return builder;
    }
}
