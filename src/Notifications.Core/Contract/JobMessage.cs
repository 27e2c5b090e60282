namespace Notifications.Core.Contract;

/// <summary>AMQP properties every job message carries (docs/http-api.md).</summary>
public static class JobMessage
{
    public const string ContentType = "application/json";
    public const string Type = "email.send.v1";
}
