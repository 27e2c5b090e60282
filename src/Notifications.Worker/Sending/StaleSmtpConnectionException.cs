namespace Notifications.Worker.Sending;

/// <summary>A pooled connection the relay had already dropped; worth one immediate try on a fresh one.</summary>
public sealed class StaleSmtpConnectionException(Exception inner)
    : Exception("pooled SMTP connection was closed by the relay: " + inner.Message, inner);
