namespace Notifications.Worker.Signing;

/// <summary>The <c>Dkim</c> section: the signing keys per sender domain, and whether every sender domain must have one.</summary>
public sealed class DkimOptions
{
    public const string Section = "Dkim";

    /// <summary>With it, a client's <c>AllowedFrom</c> domain without a key stops start-up; without it, unsigned mail is counted.</summary>
    public bool Required { get; set; }

    public List<DkimKeyOptions> Keys { get; set; } = [];
}

/// <summary>One key: a domain's selector and the PEM file of its private key (RSA of 1024 bits or more, or Ed25519).</summary>
public sealed class DkimKeyOptions
{
    public string Domain { get; set; } = "";
    public string Selector { get; set; } = "";

    /// <summary>A PEM private key; a relative path is taken from the program's folder. Never in the repository.</summary>
    public string KeyFile { get; set; } = "";

    /// <summary>Signs from this time on (rotation: publish the new key's record first, then let it take over).</summary>
    public DateTimeOffset? NotBefore { get; set; }
}
