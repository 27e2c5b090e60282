using System.Diagnostics;
using Npgsql;

namespace Notifications.Tests.Infrastructure;

/// <summary>
/// The PostgreSQL the message log's tests use: <c>POSTGRES_URI</c> (scripts/test.sh starts a throwaway cluster), else one
/// made here the same way (initdb and pg_ctl from Debian's package, as the postgres user, on loopback). Each caller gets a
/// database of its own.
/// </summary>
public static class PostgresEnvironment
{
    private static readonly Lazy<Task<string>> Server = new(StartAsync);

    /// <summary>The shared server's connection string (its <c>postgres</c> database), started when first asked for.</summary>
    public static Task<string> ServerAsync() => Server.Value;

    /// <summary>A new, empty database on the shared server: its connection string.</summary>
    public static async Task<string> NewDatabaseAsync()
    {
        var server = await Server.Value;
        var name = "t" + Guid.NewGuid().ToString("N")[..16];
        await using (var connection = new NpgsqlConnection(server))
        {
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
            await create.ExecuteNonQueryAsync();
        }
        return new NpgsqlConnectionStringBuilder(server) { Database = name, Pooling = true }.ToString();
    }

    private static async Task<string> StartAsync()
    {
        var configured = Environment.GetEnvironmentVariable("POSTGRES_URI");
        if (!string.IsNullOrWhiteSpace(configured))
            return configured;
        var bin = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin")).Where(d => File.Exists(Path.Combine(d, "initdb"))).Max()
            : null;
        if (bin is null)
            throw new InvalidOperationException("The message log's PostgreSQL tests need POSTGRES_URI or Debian's postgresql package; scripts/test.sh provides both.");
        var port = FreePort.Next();
        var dir = Directory.CreateTempSubdirectory("notif-pg-test.").FullName;
        var root = Environment.UserName == "root";
        if (root)
            await RunAsync("chown", "postgres", dir);
        await RunAsUserAsync(root, Path.Combine(bin, "initdb"), "-D", Path.Combine(dir, "data"), "-U", "notifications", "--auth=trust", "--no-sync");
        await RunAsUserAsync(root, Path.Combine(bin, "pg_ctl"), "-D", Path.Combine(dir, "data"), "-l", Path.Combine(dir, "server.log"), "-w", "-t", "60",
            "-o", $"-c listen_addresses=127.0.0.1 -p {port} -k {dir} -c fsync=off -c synchronous_commit=off -c full_page_writes=off", "start");
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                RunAsUserAsync(root, Path.Combine(bin, "pg_ctl"), "-D", Path.Combine(dir, "data"), "-m", "immediate", "stop").GetAwaiter().GetResult();
                Directory.Delete(dir, recursive: true);
            }
            catch (Exception)
            {
                // The process is ending; a leftover folder in /tmp is all that is lost.
            }
        };
        return $"Host=127.0.0.1;Port={port};Username=notifications;Database=postgres";
    }

    private static Task RunAsUserAsync(bool root, string program, params string[] arguments) =>
        root ? RunAsync("runuser", ["-u", "postgres", "--", program, .. arguments]) : RunAsync(program, arguments);

    private static async Task RunAsync(string program, params string[] arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(program, arguments) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var error = process.StandardError.ReadToEndAsync();
        await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{program} {string.Join(' ', arguments)} failed ({process.ExitCode}): {await error}");
    }
}
