using Notifications.Contracts;
using Notifications.Core.Broker;
using Notifications.Core.Events;

namespace Notifications.Api.Console;

/// <summary>
/// Every console action, logged with the operator's client name and published as <see cref="OperatorActed"/>. An event the
/// broker does not confirm is logged; the action stands.
/// </summary>
public sealed partial class OperatorActions(IOutcomeEvents events, TimeProvider clock, ILogger<OperatorActions> logger)
{
    public async Task RecordAsync(string @operator, string action, string target, int count = 1, int failed = 0)
    {
        LogAction(@operator, action, target, count, failed);
        try
        {
            await events.PublishAsync(new OperatorActed(@operator, action, target, count, failed, clock.GetUtcNow()), CancellationToken.None);
        }
        catch (PublishFailedException ex)
        {
            LogNotPublished(@operator, action, ex.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Console: operator {Operator} {Action} {Target} ({Count} done, {Failed} failed)")]
    private partial void LogAction(string @operator, string action, string target, int count, int failed);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Console: the OperatorActed event of {Operator}'s {Action} was not published: {Reason}")]
    private partial void LogNotPublished(string @operator, string action, string reason);
}
