namespace Notifications.Core.Contract;

/// <summary>AMQP properties every job message carries (DESIGN.md, "The job message").</summary>
public static class JobMessage
{
    public const string ContentType = "application/json";
    public const string Type = "email.send.v1";
}
