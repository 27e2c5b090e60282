using System.Diagnostics;
using Notifications.Core.Contract;

namespace Notifications.Core.Broker;

/// <summary>Carries W3C trace context in the job's <c>traceparent</c> header, so every hop of a job is one trace.</summary>
public static class TraceContext
{
    public static void Inject(Activity? activity, IDictionary<string, object?> headers)
    {
        if (activity is { IdFormat: ActivityIdFormat.W3C })
            headers[JobHeaders.TraceParent] = activity.Id;
    }

    public static ActivityContext Extract(IDictionary<string, object?>? headers) =>
        HeaderValues.GetString(headers, JobHeaders.TraceParent) is { } traceParent
        && ActivityContext.TryParse(traceParent, null, out var context)
            ? context
            : default;
}
