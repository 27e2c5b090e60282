using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Notifications.Core.Telemetry;

public static class TelemetryRegistration
{
    /// <summary>
    /// Traces and metrics through OpenTelemetry. Spans go to OTLP when <c>OpenTelemetry:Endpoint</c> is
    /// set and nowhere otherwise; <paramref name="tracing"/> and <paramref name="metrics"/> add a component's own parts.
    /// </summary>
    public static IHostApplicationBuilder AddNotificationsTelemetry(this IHostApplicationBuilder builder, string serviceName,
        Action<TracerProviderBuilder>? tracing = null, Action<MeterProviderBuilder>? metrics = null)
    {
        builder.Services.AddSingleton<NotificationsTelemetry>();
        var endpoint = builder.Configuration["OpenTelemetry:Endpoint"];
        builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(serviceName))
            .WithTracing(trace =>
            {
                trace.AddSource(NotificationsTelemetry.Name, "MassTransit");
                tracing?.Invoke(trace);
                if (!string.IsNullOrWhiteSpace(endpoint))
                    trace.AddOtlpExporter(otlp => otlp.Endpoint = new Uri(endpoint));
            })
            .WithMetrics(meter =>
            {
                // The runtime's own meter (.NET 9+): allocations, GC pauses, thread pool, for operators and the benchmark.
                meter.AddMeter(NotificationsTelemetry.Name, "System.Runtime");
                metrics?.Invoke(meter);
            });
        return builder;
    }

    /// <summary>
    /// The telemetry of a program without a web server (the worker, the inbound receiver): its Prometheus scrape
    /// endpoint is a small listener of its own on <c>OpenTelemetry:{prefix}MetricsHost</c> and <c>…Port</c> (port 0: none).
    /// </summary>
    public static IHostApplicationBuilder AddNotificationsTelemetryWithListener(this IHostApplicationBuilder builder, string serviceName,
        string prefix, int defaultPort)
    {
        var port = builder.Configuration.GetValue($"OpenTelemetry:{prefix}MetricsPort", defaultPort);
        var host = builder.Configuration.GetValue($"OpenTelemetry:{prefix}MetricsHost", "127.0.0.1")!;
        return builder.AddNotificationsTelemetry(serviceName, metrics: metrics =>
        {
            if (port > 0)
                metrics.AddPrometheusHttpListener(listener =>
                {
                    listener.Host = host;
                    listener.Port = port;
                });
        });
    }
}
