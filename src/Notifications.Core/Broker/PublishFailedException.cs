namespace Notifications.Core.Broker;

/// <summary>The broker did not take responsibility for a message: it is not safe, and nothing may be acked or answered 202.</summary>
public sealed class PublishFailedException(string message, Exception? inner = null) : Exception(message, inner);
