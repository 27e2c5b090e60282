namespace Notifications.Tests.Infrastructure;

/// <summary>Tests that stop, start or alarm the one fault-test broker node: they take turns.</summary>
[CollectionDefinition(Name)]
public sealed class FaultBrokerCollection
{
    public const string Name = "fault broker";
}
