namespace Notifications.Dlq.Commands;

/// <summary>The exit codes of the `dlq` tool (docs/operating.md).</summary>
public static class ExitCodes
{
    public const int Done = 0;
    public const int Failure = 1;
    public const int Usage = 2;
    public const int NotFound = 3;
}
