namespace Notifications.Core.Broker;

/// <summary>The name a process shows in the management UI's connection list.</summary>
public sealed record BrokerClientName(string Value);
