namespace Notifications.Core.Broker;

public static class SafeUri
{
    /// <summary>The URI fit for a log line: the password never leaves the process.</summary>
    public static string Redact(Uri? uri)
    {
        if (uri is null)
            return "(none)";
        if (!uri.IsAbsoluteUri || string.IsNullOrEmpty(uri.UserInfo))
            return uri.ToString();
        var user = uri.UserInfo.Split(':', 2)[0];
        return new UriBuilder(uri) { UserName = user, Password = "***" }.Uri.ToString();
    }
}
