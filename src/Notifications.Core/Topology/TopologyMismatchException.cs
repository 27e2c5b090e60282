namespace Notifications.Core.Topology;

/// <summary>The broker already has an object of ours with other settings; no retry will fix that.</summary>
public sealed class TopologyMismatchException(string message, Exception? inner = null) : Exception(message, inner);
