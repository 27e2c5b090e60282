using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;
using Notifications.Core.Clients;

namespace Notifications.Bench;

/// <summary>
/// SMTP submission beside the HTTP endpoint (issue 43): the real API (Release, its own process, submission on with a
/// certificate made here) takes N messages of 5 KB and of 1 MB over 16 connections — by SMTP (MailKit: STARTTLS and AUTH
/// once a connection, then message after message) and by <c>POST /api/send-email</c> (the same content as JSON, the
/// 1 MB as an attachment) — each answered only once the broker confirmed it. Messages a second, and the API's and the
/// broker's CPU per message; no worker runs (what is measured is the front door), each phase on fresh queues.
/// </summary>
public static class SubmissionRun
{
    public const int Connections = 16;

    private static readonly string Key = "ntf_bench_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));

    public static async Task<List<SubmissionFigures>> RunAsync(BenchContext context, int smallCount, int largeCount)
    {
        var folder = Directory.CreateTempSubdirectory("bench-submission-").FullName;
        try
        {
            var (certificate, key) = MakeCertificate(folder);
            var small = Body(5 * 1024);
            var large = Body(1024 * 1024);
            var figures = new List<SubmissionFigures>();
            foreach (var (size, content, count) in new[] { ("5 KB", small, smallCount), ("1 MB", large, largeCount) })
            {
                figures.Add(await PhaseAsync(context, folder, certificate, key, "http", size, content, count));
                figures.Add(await PhaseAsync(context, folder, certificate, key, "smtp", size, content, count));
            }
            return figures;
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static async Task<SubmissionFigures> PhaseAsync(BenchContext context, string folder, string certificate, string key, string via,
        string size, byte[] content, int count)
    {
        var prefix = context.PrefixFor($"submission-{via}-{size.Replace(" ", "")}");
        var apiPort = HttpLoad.FreePort();
        var smtpPort = HttpLoad.FreePort();
        var settings = new Dictionary<string, string>
        {
            ["RabbitMq__Uri"] = context.Broker.ToString(),
            ["RabbitMq__Prefix"] = prefix,
            ["Api__MaxQueueDepth"] = "0",
            ["Serilog__MinimumLevel__Default"] = "Warning",
            ["Urls"] = $"http://127.0.0.1:{apiPort}",
            ["Store__Path"] = Path.Combine(folder, prefix + "store.db"),
            ["Clients__bench__KeyHashes__0"] = ClientRegistry.HashOf(Key),
            ["Clients__bench__AllowedFrom__0"] = "Notifications <no-reply@example.com>",
            ["Submission__Listen"] = $"127.0.0.1:{smtpPort}",
            ["Submission__Certificate"] = certificate,
            ["Submission__CertificateKey"] = key,
            ["MessageLog__Enabled"] = "false", // no worker writes it here; the API's own entry would pile up unread
        };
        using var api = ServiceUnderTest.Start(context.Root, "Notifications.Api", settings);
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = Connections, UseProxy = false })
        {
            BaseAddress = new Uri($"http://127.0.0.1:{apiPort}"),
            DefaultRequestHeaders = { Authorization = new AuthenticationHeaderValue("Bearer", Key) },
        };
        await HttpLoad.WaitReadyAsync(http);
        try
        {
            var warmUp = Math.Max(Connections * 2, count / 5);
            Func<int, string, Task<int>> send = via == "smtp"
                ? (n, tag) => SmtpAsync(smtpPort, content, n, tag)
                : (n, tag) => HttpAsync(http, content, n, tag);
            await send(warmUp, "warm");
            var cpu = new CpuMeter().Add("api", () => api.CpuTime).Add("broker", CpuMeter.Broker);
            cpu.Start();
            var clock = Stopwatch.StartNew();
            var failed = await send(count, "run");
            var elapsed = clock.Elapsed;
            var perMessage = cpu.PerJobMs(count - failed);
            return new SubmissionFigures(via, size, content.Length, count, failed, (count - failed) / elapsed.TotalSeconds,
                perMessage.GetValueOrDefault("api"), perMessage.GetValueOrDefault("broker"));
        }
        finally
        {
            await Cleanup.DeleteAsync(context.Broker, prefix);
        }
    }

    /// <summary>n messages over 16 SMTP connections, each STARTTLS and AUTH once; the number refused.</summary>
    private static async Task<int> SmtpAsync(int port, byte[] content, int n, string tag)
    {
        var next = -1;
        var failed = 0;
        await Task.WhenAll(Enumerable.Range(0, Connections).Select(async _ =>
        {
            using var smtp = new SmtpClient { ServerCertificateValidationCallback = (_, _, _, _) => true };
            // TCP_NODELAY, as a mail client that pipelines should: else each command waits for the ACK of the last (Nagle
            // against the peer's delayed ACK, ~40 ms a message).
            if (Environment.GetEnvironmentVariable("BENCH_MAILKIT_DEFAULT_SOCKET") is { Length: > 0 })
                await smtp.ConnectAsync("127.0.0.1", port, SecureSocketOptions.StartTls); // as most applications do
            else
            {
                var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream,
                    System.Net.Sockets.ProtocolType.Tcp) { NoDelay = true };
                await socket.ConnectAsync(IPAddress.Loopback, port);
                await smtp.ConnectAsync(socket, "127.0.0.1", port, SecureSocketOptions.StartTls);
            }
            await smtp.AuthenticateAsync("bench", Key);
            int i;
            while ((i = Interlocked.Increment(ref next)) < n)
            {
                try
                {
                    await smtp.SendAsync(Message(content, $"{tag}-{i}"));
                }
                catch (SmtpCommandException)
                {
                    Interlocked.Increment(ref failed);
                }
            }
            await smtp.DisconnectAsync(true);
        }));
        return failed;
    }

    /// <summary>n requests over 16 connections with the same content (5 KB: text; 1 MB: an attachment); the number refused.</summary>
    private static async Task<int> HttpAsync(HttpClient http, byte[] content, int n, string tag)
    {
        var small = content.Length < 100 * 1024;
        var next = -1;
        var failed = 0;
        var json = new MediaTypeHeaderValue("application/json");
        await Task.WhenAll(Enumerable.Range(0, Connections).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < n)
            {
                var body = JsonSerializer.SerializeToUtf8Bytes(new
                {
                    to = new[] { "bench@example.com" }, subject = $"Bench {tag}-{i}",
                    text = small ? Encoding.ASCII.GetString(content) : "The file is attached.",
                    attachments = small ? null : new[] { new { filename = "data.bin", contentType = "application/octet-stream", content = Convert.ToBase64String(content) } },
                }, new JsonSerializerOptions { DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull });
                using var request = new ByteArrayContent(body);
                request.Headers.ContentType = json;
                using var response = await http.PostAsync("/api/send-email", request);
                if (response.StatusCode != HttpStatusCode.Accepted)
                    Interlocked.Increment(ref failed);
            }
        }));
        return failed;
    }

    /// <summary>The same content as a mail: 5 KB of text, or a short text and the 1 MB as an attachment.</summary>
    private static MimeMessage Message(byte[] content, string id)
    {
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse("no-reply@example.com"));
        message.To.Add(MailboxAddress.Parse("bench@example.com"));
        message.Subject = $"Bench {id}";
        message.MessageId = $"{id}-{Guid.NewGuid():N}@example.com";
        var body = new BodyBuilder();
        if (content.Length < 100 * 1024)
            body.TextBody = Encoding.ASCII.GetString(content);
        else
        {
            body.TextBody = "The file is attached.";
            body.Attachments.Add("data.bin", content, new ContentType("application", "octet-stream"));
        }
        message.Body = body.ToMessageBody();
        return message;
    }

    /// <summary>Text of that many bytes (lines of 76), or random bytes for the large one (an attachment).</summary>
    private static byte[] Body(int bytes)
    {
        if (bytes >= 100 * 1024)
            return RandomNumberGenerator.GetBytes(bytes);
        var line = "The quick brown fox jumps over the lazy dog, and the report follows below..\r\n";
        var text = new StringBuilder();
        while (text.Length < bytes)
            text.Append(line);
        return Encoding.ASCII.GetBytes(text.ToString(0, bytes));
    }

    private static (string Certificate, string Key) MakeCertificate(string folder)
    {
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        var (certPath, keyPath) = (Path.Combine(folder, "cert.pem"), Path.Combine(folder, "key.pem"));
        File.WriteAllText(certPath, certificate.ExportCertificatePem());
        File.WriteAllText(keyPath, rsa.ExportPkcs8PrivateKeyPem());
        return (certPath, keyPath);
    }
}

/// <param name="Via">smtp or http.</param>
/// <param name="PerSecond">messages answered 250 (SMTP) or 202 (HTTP) a second, over 16 connections.</param>
/// <param name="ApiCpuMs">the API process's CPU per message taken.</param>
/// <param name="BrokerCpuMs">the broker's CPU per message taken.</param>
public sealed record SubmissionFigures(string Via, string Size, int ContentBytes, int Count, int Failed, double PerSecond, double ApiCpuMs, double BrokerCpuMs);
