using Notifications.Core.Clients;

namespace Notifications.Api.Clients;

public static class ClientIdentity
{
    /// <summary>The client the request authenticated as, or null for an anonymous caller (only with Auth:Required=false).</summary>
    public static Client? Client(this HttpContext http, ClientRegistry clients) =>
        http.User.Identity is { IsAuthenticated: true, Name: { } name } ? clients.Find(name) : null;
}
