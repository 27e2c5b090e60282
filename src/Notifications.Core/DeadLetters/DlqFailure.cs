namespace Notifications.Core.DeadLetters;

/// <summary>Something the operator must hear about in one line: exit code 1.</summary>
public sealed class DlqFailure(string message, Exception? inner = null) : Exception(message, inner);
