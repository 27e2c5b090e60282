namespace Notifications.Dlq.Cli;

/// <summary>The queue a run works on (<c>--queue</c>).</summary>
public enum DlqQueue
{
    /// <summary><c>email.dead</c>: dead jobs.</summary>
    Email,

    /// <summary><c>webhook.dead</c>: callbacks no endpoint took.</summary>
    Webhook,

    /// <summary><c>email.inbound.unparsed</c>: what came back to the return-path domain and could not be read or matched.</summary>
    InboundUnparsed,
}
