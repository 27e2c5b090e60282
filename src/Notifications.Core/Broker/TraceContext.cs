using System.Diagnostics;
using OpenTelemetry;
using OpenTelemetry.Context.Propagation;

namespace Notifications.Core.Broker;

/// <summary>
/// Carries the W3C trace context (and baggage) in a message's AMQP headers through OpenTelemetry's propagator, as
/// eShop's RabbitMQ event bus does, so every hop of a job is one trace. The header names are the propagator's
/// (<c>traceparent</c>, <c>tracestate</c>, <c>baggage</c>).
/// </summary>
public static class TraceContext
{
    public static void Inject(Activity? activity, IDictionary<string, object?> headers)
    {
        if (activity is null)
            return;
        Propagators.DefaultTextMapPropagator.Inject(new PropagationContext(activity.Context, Baggage.Current), headers,
            static (carrier, key, value) => carrier[key] = value);
    }

    public static ActivityContext Extract(IDictionary<string, object?>? headers)
    {
        if (headers is null)
            return default;
        return Propagators.DefaultTextMapPropagator.Extract(default, headers,
            static (carrier, key) => HeaderValues.GetString(carrier, key) is { } value ? [value] : []).ActivityContext;
    }
}
