namespace Notifications.Worker.SendPath;

/// <summary>
/// The steps a job goes through, in order, composed once like ASP.NET Core's middleware:
/// decode → cancelled? → filter recipients → domain turn → sending slot → claim → build → list headers → sign → send.
/// The order is set in one place (<see cref="WorkerSendPathExtensions.AddSendPath"/>); a new step is a class registered there.
/// </summary>
public sealed class SendPath
{
    private readonly SendStepDelegate _first;

    public SendPath(IReadOnlyList<ISendStep> steps)
    {
        SendStepDelegate next = static _ => Task.CompletedTask;
        for (var i = steps.Count - 1; i >= 0; i--)
        {
            var step = steps[i];
            var rest = next;
            next = context => step.RunAsync(context, rest);
        }
        _first = next;
        Steps = [.. steps.Select(s => s.GetType().Name)];
    }

    /// <summary>The steps' names, in order (the start-up log prints them).</summary>
    public IReadOnlyList<string> Steps { get; }

    public Task RunAsync(SendContext context) => _first(context);
}
