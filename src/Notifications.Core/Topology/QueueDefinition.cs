namespace Notifications.Core.Topology;

/// <summary>One queue of the topology: its name, the key binding it to the exchange, its arguments.</summary>
public sealed record QueueDefinition(string Name, string RoutingKey, IReadOnlyDictionary<string, object?> Arguments);
