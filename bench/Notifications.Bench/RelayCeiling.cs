using System.Diagnostics;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;

namespace Notifications.Bench;

/// <summary>MailKit alone: the same mail to the sink over as many reused connections as the worker uses, no broker.</summary>
public static class RelayCeiling
{
    public static async Task<double> RunAsync(BenchSink sink, int connections, int count)
    {
        sink.Reset();
        var next = -1;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, connections).Select(async _ =>
        {
            using var client = new SmtpClient();
            await client.ConnectAsync("127.0.0.1", sink.Port, SecureSocketOptions.None);
            int n;
            while ((n = Interlocked.Increment(ref next)) < count)
                await client.SendAsync(Mail($"ceiling-{n}"));
            await client.DisconnectAsync(true);
        }));
        if (!await sink.WaitForAsync(count, TimeSpan.FromSeconds(30)))
            throw new TimeoutException($"the sink saw {sink.Count} of {count} mails");
        return count / clock.Elapsed.TotalSeconds;
    }

    public static MimeMessage Mail(string id)
    {
        var message = new MimeMessage();
        message.From.Add(new MailboxAddress("Shop", "shop@example.com"));
        message.To.Add(new MailboxAddress("Customer", "customer@example.com"));
        message.Subject = "Order 4711 shipped";
        message.MessageId = id + "@example.com";
        message.Body = new BodyBuilder { TextBody = SampleJob.Text, HtmlBody = SampleJob.Html }.ToMessageBody();
        return message;
    }
}
