namespace Notifications.Api.Status;

/// <summary>The 202 body: the job id to keep, and where the job stands.</summary>
public sealed record SendEmailAccepted(string Id, string Status);
