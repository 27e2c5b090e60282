using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Notifications.Worker.Signing;

namespace Notifications.Worker.SendPath;

public static class WorkerSendPathExtensions
{
    /// <summary>Registers the steps and composes them in the order a job goes through them.</summary>
    public static IServiceCollection AddSendPath(this IServiceCollection services)
    {
        services.AddSingleton<DecodeStep>();
        services.AddSingleton<CancelCheckStep>();
        services.AddSingleton<RecipientStep>();
        services.AddSingleton<DomainTurnStep>();
        services.AddSingleton<SendingSlotStep>();
        services.AddSingleton<ClaimStep>();
        services.AddSingleton<BuildStep>();
        services.AddSingleton<ReturnPathStep>();
        services.AddSingleton<ListHeadersStep>();
        services.AddSingleton<SignStep>();
        services.AddSingleton<SendStep>();
        services.AddSingleton(sp => new SendPath(
        [
            sp.GetRequiredService<DecodeStep>(),
            sp.GetRequiredService<CancelCheckStep>(),
            sp.GetRequiredService<RecipientStep>(),
            sp.GetRequiredService<DomainTurnStep>(),
            sp.GetRequiredService<SendingSlotStep>(),
            sp.GetRequiredService<ClaimStep>(),
            sp.GetRequiredService<BuildStep>(),
            sp.GetRequiredService<ReturnPathStep>(),
            sp.GetRequiredService<ListHeadersStep>(),
            sp.GetRequiredService<SignStep>(),
            sp.GetRequiredService<SendStep>(),
        ]));
        services.AddSingleton<IValidateOptions<DkimOptions>, DkimOptionsValidator>();
        services.AddSingleton<DkimKeyRing>();
        return services;
    }
}
