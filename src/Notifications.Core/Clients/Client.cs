namespace Notifications.Core.Clients;

/// <summary>A configured client as the service uses it: its name, its parsed senders and its rate.</summary>
public sealed class Client(string name, string defaultFrom, IReadOnlySet<string> senderAddresses, int ratePerSecond, int burst,
    bool isOperator = false, ClientWebhook? webhook = null, bool isTest = false)
{
    /// <summary><c>Clients:&lt;name&gt;:Mode=Test</c>: its mail never reaches the relay; the worker answers for it.</summary>
    public bool IsTest => isTest;

    /// <summary>Where its jobs' outcomes go, when it has a webhook.</summary>
    public ClientWebhook? Webhook => webhook;

    /// <summary><c>Clients:&lt;name&gt;:Operator</c>: sees and manages every suppression.</summary>
    public bool IsOperator => isOperator;

    public string Name => name;

    /// <summary>The first of its <c>AllowedFrom</c>, used when a request names no sender.</summary>
    public string DefaultFrom => defaultFrom;

    /// <summary>The bare addresses of its <c>AllowedFrom</c>.</summary>
    public IReadOnlyCollection<string> SenderAddresses => senderAddresses;

    public int RatePerSecond => ratePerSecond;

    public int Burst => burst;

    /// <param name="address">a bare address (<c>billing@example.com</c>), compared without regard to case.</param>
    public bool MaySendAs(string address) => senderAddresses.Contains(address);
}
