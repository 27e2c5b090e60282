using System.ComponentModel.DataAnnotations;

namespace Notifications.Core.Broker;

/// <summary>The <c>RabbitMq</c> section.</summary>
public sealed class RabbitMqOptions
{
    public const string Section = "RabbitMq";

    [Required(ErrorMessage = "RabbitMq:Uri is required, e.g. amqp://guest:guest@127.0.0.1:5672/")]
    public Uri? Uri { get; set; }

    /// <summary>
    /// The nodes of a cluster, <c>host:port</c> each (the port defaults to 5672, 5671 with amqps); user, password, vhost
    /// and TLS come from <see cref="Uri"/>. Empty: the one node of the URI.
    /// </summary>
    public List<string> Hosts { get; set; } = [];

    /// <summary>The nodes to connect to, in order: <see cref="Hosts"/>, or the URI's host.</summary>
    public IReadOnlyList<(string Host, int Port)> Nodes()
    {
        var defaultPort = Uri?.Scheme == "amqps" ? 5671 : 5672;
        if (Hosts.Count == 0)
            return Uri is null ? [] : [(Uri.Host, Uri.IsDefaultPort || Uri.Port < 0 ? defaultPort : Uri.Port)];
        return [.. Hosts.Select(h => ParseNode(h, defaultPort) ?? throw new FormatException($"RabbitMq:Hosts: '{h}' is not host:port"))];
    }

    public static (string Host, int Port)? ParseNode(string value, int defaultPort)
    {
        var text = value.Trim();
        var colon = text.LastIndexOf(':');
        var host = colon > 0 && !text.EndsWith(']') ? text[..colon] : text;
        var port = defaultPort;
        if (colon > 0 && !text.EndsWith(']') && !int.TryParse(text[(colon + 1)..], System.Globalization.CultureInfo.InvariantCulture, out port))
            return null;
        return host.Length > 0 && port is > 0 and < 65_536 && Uri.CheckHostName(host.Trim('[', ']')) != UriHostNameType.Unknown
            ? (host.Trim('[', ']'), port)
            : null;
    }

    /// <summary>Put in front of every exchange and queue name so deployments can share a broker.</summary>
    [RegularExpression("^[A-Za-z0-9._-]{0,64}$", ErrorMessage = "RabbitMq:Prefix may hold up to 64 letters, digits, '.', '_' or '-'")]
    public string Prefix { get; set; } = "";

    /// <summary>Unacked deliveries the broker hands the worker at once.</summary>
    [Range(1, 65_535, ErrorMessage = "RabbitMq:Prefetch must be between 1 and 65535")]
    public int Prefetch { get; set; } = 64;

    /// <summary>Deliveries the worker handles at the same time.</summary>
    [Range(1, 1_024, ErrorMessage = "RabbitMq:Concurrency must be between 1 and 1024")]
    public int Concurrency { get; set; } = 16;

    /// <summary>With an <c>amqps://</c> URI: a PEM file with the private CA the broker's certificate is issued by.</summary>
    public string? CaCertificate { get; set; }

    [Range(typeof(TimeSpan), "00:00:00.050", "00:10:00", ErrorMessage = "RabbitMq:PublishTimeout must be between 50 ms and 10 minutes")]
    public TimeSpan PublishTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How often client and broker check the connection is alive; a dead peer is noticed after about two of these.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00", ErrorMessage = "RabbitMq:Heartbeat must be between 1 second and 10 minutes")]
    public TimeSpan Heartbeat { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>The pause between two tries to bring a lost connection back (the client's automatic recovery).</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:05:00", ErrorMessage = "RabbitMq:RecoveryInterval must be between 100 ms and 5 minutes")]
    public TimeSpan RecoveryInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How long one try to open a connection may take.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:05:00", ErrorMessage = "RabbitMq:ConnectTimeout must be between 100 ms and 5 minutes")]
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);
}
