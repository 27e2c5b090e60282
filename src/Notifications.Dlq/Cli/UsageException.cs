namespace Notifications.Dlq.Cli;

/// <summary>The command line is wrong: exit code 2 and the usage text.</summary>
public sealed class UsageException(string message) : Exception(message);
