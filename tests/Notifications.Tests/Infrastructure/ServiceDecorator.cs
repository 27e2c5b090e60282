using Microsoft.Extensions.DependencyInjection;

namespace Notifications.Tests.Infrastructure;

public static class ServiceDecorator
{
    /// <summary>Wraps the last registration of <typeparamref name="T"/> (a singleton) in <paramref name="wrap"/>.</summary>
    public static IServiceCollection Decorate<T>(this IServiceCollection services, Func<T, T> wrap) where T : class
    {
        var original = services.Last(d => d.ServiceType == typeof(T) && !d.IsKeyedService);
        services.Remove(original);
        services.AddSingleton<T>(provider =>
        {
            var inner = original.ImplementationInstance as T
                ?? original.ImplementationFactory?.Invoke(provider) as T
                ?? (T)ActivatorUtilities.CreateInstance(provider, original.ImplementationType!);
            return wrap(inner);
        });
        return services;
    }
}
