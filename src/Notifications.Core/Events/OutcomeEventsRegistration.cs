using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Notifications.Core.Broker;
using Notifications.Core.Configuration;

namespace Notifications.Core.Events;

public static class OutcomeEventsRegistration
{
    /// <summary>
    /// MassTransit on the same broker, its exchanges named with <c>RabbitMq:Prefix</c> in front like ours.
    /// <paramref name="consumers"/> adds consumers; <paramref name="endpoints"/> declares their queues.
    /// </summary>
    public static IHostApplicationBuilder AddOutcomeEvents(this IHostApplicationBuilder builder,
        Action<IBusRegistrationConfigurator>? consumers = null,
        Action<IBusRegistrationContext, IRabbitMqBusFactoryConfigurator, RabbitMqOptions>? endpoints = null)
    {
        builder.Services.AddMassTransit(bus =>
        {
            consumers?.Invoke(bus);
            bus.UsingRabbitMq((context, rabbit) =>
            {
                var options = context.GetRequiredService<IOptions<RabbitMqOptions>>().Value;
                ConfigureHost(rabbit, options);
                endpoints?.Invoke(context, rabbit, options);
            });
        });
        builder.Services.AddSingleton<IOutcomeEvents, OutcomeEvents>();
        return builder;
    }

    /// <summary>The broker from <c>RabbitMq:Uri</c>, and event exchange names with the deployment's prefix.</summary>
    public static void ConfigureHost(IRabbitMqBusFactoryConfigurator rabbit, RabbitMqOptions options)
    {
        var uri = options.Uri!;
        var user = Uri.UnescapeDataString(uri.UserInfo.Split(':', 2)[0]);
        var password = uri.UserInfo.Contains(':') ? Uri.UnescapeDataString(uri.UserInfo.Split(':', 2)[1]) : "";
        var virtualHost = uri.AbsolutePath is "" or "/" ? "/" : Uri.UnescapeDataString(uri.AbsolutePath[1..]);
        // An amqps URI without a port means 5671, as for RabbitMQ.Client (Nodes() applies it); Uri knows no default port for either.
        var nodes = options.Nodes();
        rabbit.Host(nodes[0].Host, (ushort)nodes[0].Port, virtualHost, host =>
        {
            // The same nodes as the job connection (RabbitMq:Hosts): MassTransit moves to another when its node goes away.
            if (options.Hosts.Count > 0)
                host.UseCluster(cluster =>
                {
                    foreach (var (name, nodePort) in nodes)
                        cluster.Node($"{name}:{nodePort}");
                });
            if (user.Length > 0)
            {
                host.Username(user);
                host.Password(password);
            }
            if (uri.Scheme == "amqps")
                host.UseSsl(ssl =>
                {
                    ssl.ServerName = uri.Host;
                    if (PrivateCertificateAuthority.FromFile(options.CaCertificate) is { } authority)
                        ssl.CertificateValidationCallback = authority.Validate;
                });
        });
        if (options.Prefix.Length > 0)
            rabbit.MessageTopology.SetEntityNameFormatter(new PrefixEntityNameFormatter(rabbit.MessageTopology.EntityNameFormatter, options.Prefix));
    }
}
