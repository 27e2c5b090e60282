using Notifications.Core.Contract;
using Notifications.Core.Validation;

namespace Notifications.Worker.SendPath;

/// <summary>Decode: the body must be a job, valid by the API's own rules; anything else is poison.</summary>
public sealed class DecodeStep(EmailJobValidator validator) : ISendStep
{
    public Task RunAsync(SendContext context, SendStepDelegate next)
    {
        if (!JobCodec.TryDecode(context.Delivery.Body.Span, out var job, out var decodeError))
        {
            context.Outcome = new JobOutcome.Invalid(decodeError!);
            return Task.CompletedTask;
        }
        var errors = validator.Validate(job!, job!.Client);
        if (errors.Count > 0)
        {
            context.Job = job; // still a job: its webhook names its recipients
            context.Outcome = new JobOutcome.Invalid("not a valid job: " + string.Join("; ", errors.Select(e => $"{e.Key}: {string.Join(", ", e.Value)}")));
            return Task.CompletedTask;
        }
        if (job.OnlyTo is { } only && !only.All(job.AllRecipients().Contains))
        {
            context.Job = job;
            context.Outcome = new JobOutcome.Invalid("not a valid job: onlyTo names a recipient that is not in to, cc or bcc");
            return Task.CompletedTask;
        }
        context.Job = job;
        return next(context);
    }
}
