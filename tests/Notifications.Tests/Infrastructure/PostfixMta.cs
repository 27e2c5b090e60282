using System.Diagnostics;
using System.Net.Sockets;

namespace Notifications.Tests.Infrastructure;

/// <summary>
/// A real MTA for a test: Debian's Postfix, an instance of its own in <see cref="Folder"/> (scripts/test.sh installs the
/// package unconfigured and lists the folder in alternate_config_directories). It relays what it is given on
/// 127.0.0.1:<see cref="Port"/> to fixed next hops, and writes its own DSNs when a next hop refuses a recipient.
/// </summary>
public sealed class PostfixMta : IAsyncDisposable
{
    public const string Folder = "/tmp/notifications-postfix";

    /// <summary>The test collection of every class that starts one: one instance at a time, in <see cref="Folder"/>.</summary>
    public const string Collection = "postfix";

    private PostfixMta(int port) => Port = port;

    public int Port { get; }

    private static string Config => Path.Combine(Folder, "etc");

    /// <summary>What Postfix logged (its own maillog).</summary>
    public string Log => File.Exists(Path.Combine(Folder, "maillog")) ? File.ReadAllText(Path.Combine(Folder, "maillog")) : "";

    /// <param name="routes">domain → the 127.0.0.1 port of its next hop (no DNS).</param>
    /// <param name="mainCf">more main.cf lines, after the others (a later line wins): a relayhost with SASL, say.</param>
    public static async Task<PostfixMta> StartAsync(IReadOnlyDictionary<string, int> routes, string mainCf = "")
    {
        if (!File.Exists("/usr/sbin/postfix"))
            throw new InvalidOperationException("Postfix is not installed: run the tests through scripts/test.sh, which installs it");
        await RunAsync("stop"); // a run that died left one behind
        if (Directory.Exists(Folder))
            Directory.Delete(Folder, recursive: true);
        foreach (var folder in new[] { "etc", "spool", "data" })
            Directory.CreateDirectory(Path.Combine(Folder, folder));
        var port = FreePort.Next();
        var transport = string.Join(", ", routes.Select(r => $"{r.Key}=smtp:[127.0.0.1]:{r.Value}"));
        await File.WriteAllTextAsync(Path.Combine(Config, "main.cf"), $$"""
            compatibility_level = 3.6
            queue_directory = {{Folder}}/spool
            data_directory = {{Folder}}/data
            mail_owner = postfix
            setgid_group = postdrop
            myhostname = mta.test.example
            mydomain = test.example
            myorigin = $myhostname
            mydestination =
            inet_interfaces = loopback-only
            inet_protocols = ipv4
            mynetworks = 127.0.0.0/8
            smtpd_relay_restrictions = permit_mynetworks, reject
            {{(routes.Count == 0 ? "" : $"transport_maps = inline:{{ {transport} }}")}}
            smtp_dns_support_level = disabled
            maillog_file = {{Folder}}/maillog
            maillog_file_prefixes = {{Folder}}
            alias_maps =
            alias_database =
            local_recipient_maps =
            biff = no
            smtputf8_enable = no
            queue_run_delay = 1s
            minimal_backoff_time = 1s
            maximal_backoff_time = 2s
            smtp_connect_timeout = 5s
            {{(mainCf.Contains("smtp_tls_security_level") ? "" : "smtp_tls_security_level = none")}}
            smtpd_tls_security_level = none
            {{mainCf}}

            """);
        await File.WriteAllTextAsync(Path.Combine(Config, "master.cf"), $"""
            127.0.0.1:{port} inet n - n - - smtpd
            pickup unix n - n 60 1 pickup
            cleanup unix n - n - 0 cleanup
            qmgr unix n - n 300 1 qmgr
            rewrite unix - - n - - trivial-rewrite
            bounce unix - - n - 0 bounce
            defer unix - - n - 0 bounce
            trace unix - - n - 0 bounce
            verify unix - - n - 1 verify
            flush unix n - n 1000? 0 flush
            proxymap unix - - n - - proxymap
            smtp unix - - n - - smtp
            relay unix - - n - - smtp
            showq unix n - n - - showq
            error unix - - n - - error
            retry unix - - n - - error
            discard unix - - n - - discard
            anvil unix - - n - 1 anvil
            tlsmgr unix - - n 1000? 1 tlsmgr
            scache unix - - n - 1 scache
            postlog unix-dgram n - n - 1 postlogd

            """);
        await ProcessAsync("chown", "postfix", Path.Combine(Folder, "data"));
        var mta = new PostfixMta(port);
        if (await RunAsync("start") != 0)
            throw new InvalidOperationException($"postfix -c {Config} start failed: {mta.Log}");
        await Eventually.TrueAsync(() => Listens(port), "Postfix listening", TimeSpan.FromSeconds(30));
        return mta;
    }

    private static bool Listens(int port)
    {
        try
        {
            using var client = new TcpClient();
            client.Connect("127.0.0.1", port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>postfix -c … start|stop; its output goes nowhere (the daemon it starts would keep a pipe open).</summary>
    private static Task<int> RunAsync(string action) =>
        File.Exists(Path.Combine(Config, "main.cf")) ? ProcessAsync("/bin/sh", "-c", $"/usr/sbin/postfix -c {Config} {action} > /dev/null 2>&1") : Task.FromResult(0);

    private static async Task<int> ProcessAsync(string file, params string[] arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(file, arguments) { UseShellExecute = false })!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return process.ExitCode;
    }

    public async ValueTask DisposeAsync() => await RunAsync("stop");
}

[CollectionDefinition(PostfixMta.Collection)]
public sealed class PostfixCollection;
