namespace Notifications.Worker.SendPath;

/// <summary>The rest of the path after a step.</summary>
public delegate Task SendStepDelegate(SendContext context);

/// <summary>
/// One step of the send path, like an ASP.NET Core middleware: it does its part and calls <c>next</c>, or it ends the
/// path by setting <see cref="SendContext.Outcome"/>. A step that holds something (a turn, a slot, a claim) holds it
/// around <c>next</c> and lets go when the rest of the path returns.
/// </summary>
public interface ISendStep
{
    Task RunAsync(SendContext context, SendStepDelegate next);
}
