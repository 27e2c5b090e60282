namespace Notifications.Core.Clients;

/// <summary>The <c>Auth</c> section.</summary>
public sealed class AuthOptions
{
    public const string Section = "Auth";

    /// <summary>Every request needs a client's key. false: anonymous callers send as <c>Email:AllowedFrom</c> (a closed network only).</summary>
    public bool Required { get; set; } = true;
}
