using System.Net;
using System.Net.Sockets;
using System.Text;
using Notifications.Core.Bounces;
using Notifications.Core.Topology;
using Notifications.Tests.Infrastructure;
using RabbitMQ.Client;

namespace Notifications.Tests.Integration;

/// <summary>
/// The receiver faces the internet (port 25 behind the MX): what one stranger can make it hold is bounded, each limit
/// tried over real SMTP with the shipped settings, and the receiver keeps serving everyone else.
/// </summary>
public sealed class InboundLimitTests
{
    private static readonly string Secret = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
    private static readonly string Postmaster = $"postmaster@{BounceSamples.Domain}";

    private static Task<Pipeline> StartAsync(bool worker = true) =>
        Pipeline.StartAsync(worker: worker, configure: s =>
        {
            s["Bounces:Domain"] = BounceSamples.Domain;
            s["Bounces:Secret"] = Secret;
        });

    [Fact]
    public async Task An_eleventh_recipient_in_one_transaction_is_told_452_4_5_3_and_the_ten_before_it_are_kept()
    {
        await using var pipeline = await StartAsync(worker: false);
        var port = await pipeline.StartInboundAsync();
        await using var smtp = await RawSmtp.ConnectAsync(port);
        await smtp.CommandAsync("EHLO mail.example.net");
        Assert.StartsWith("250", await smtp.CommandAsync("MAIL FROM:<>"));

        for (var i = 1; i <= 10; i++)
            Assert.StartsWith("250", await smtp.CommandAsync($"RCPT TO:<b+{i}@{BounceSamples.Domain}>"));
        Assert.StartsWith("452 4.5.3", await smtp.CommandAsync($"RCPT TO:<b+11@{BounceSamples.Domain}>"));
        Assert.StartsWith("354", await smtp.CommandAsync("DATA"));
        await smtp.WriteAsync("Subject: hi\r\n\r\nhello\r\n.\r\n");
        Assert.StartsWith("250", await smtp.ReplyAsync());

        var kept = Assert.Single(await pipeline.Queues.WaitAndTakeAsync(pipeline.Names.InboundQueue, 1));
        Assert.Equal(10, kept.Header(InboundHeaders.Recipients)!.Split(',').Length);
    }

    [Fact]
    public async Task An_eleventh_session_from_one_address_is_told_421_4_7_0_while_another_address_is_still_served()
    {
        await using var pipeline = await StartAsync(worker: false);
        var port = await pipeline.StartInboundAsync();
        var held = new List<RawSmtp>();
        try
        {
            for (var i = 0; i < 10; i++)
            {
                held.Add(await RawSmtp.ConnectAsync(port));
                Assert.StartsWith("220", held[^1].Greeting);
            }
            await using (var eleventh = await RawSmtp.ConnectAsync(port))
                Assert.StartsWith("421 4.7.0", eleventh.Greeting);
            await using (var neighbour = await RawSmtp.ConnectAsync(port, IPAddress.Parse("127.0.0.2")))
                Assert.StartsWith("220", neighbour.Greeting);

            await held[0].DisposeAsync();
            await Eventually.ReturnsAsync(async () =>
            {
                await using var again = await RawSmtp.ConnectAsync(port);
                return again.Greeting;
            }, greeting => greeting.StartsWith("220", StringComparison.Ordinal), "a place again for that address once one of its sessions ended");
        }
        finally
        {
            foreach (var smtp in held)
                await smtp.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_40_MB_stream_is_cut_with_552_as_it_crosses_the_limit_not_read_to_its_end()
    {
        await using var pipeline = await StartAsync(worker: false);
        var port = await pipeline.StartInboundAsync();
        await using var smtp = await RawSmtp.ConnectAsync(port);
        await smtp.CommandAsync("EHLO mail.example.net");
        await smtp.CommandAsync("MAIL FROM:<>");
        await smtp.CommandAsync($"RCPT TO:<{Postmaster}>");
        Assert.StartsWith("354", await smtp.CommandAsync("DATA"));

        var line = Encoding.ASCII.GetBytes(new string('a', 998) + "\r\n");
        var chunk = Enumerable.Repeat(line, 64).SelectMany(l => l).ToArray(); // 64 KB
        long written = 0;
        var cut = false;
        using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(60)); // a receiver that stopped reading without closing fails here, not hangs
        try
        {
            while (written < 40L * 1024 * 1024)
            {
                await smtp.Stream.WriteAsync(chunk, patience.Token);
                written += chunk.Length;
            }
        }
        catch (IOException)
        {
            cut = true; // the receiver closed the session
        }
        var limit = new BouncesOptions().MaxMessageBytes;
        Assert.True(cut, $"all {written} bytes were read");
        // What the receiver read before closing, plus what the sockets' buffers took: well under 40 MB.
        Assert.InRange(written, limit, 2L * limit);
        Assert.Equal(0u, await pipeline.Queues.CountAsync(pipeline.Names.InboundQueue));
        await using var next = await RawSmtp.ConnectAsync(port);
        Assert.StartsWith("250", await next.SendAsync("", [Postmaster], Encoding.ASCII.GetBytes("Subject: small\r\n\r\nhi\r\n")));
    }

    [Fact]
    public async Task A_full_inbound_queue_is_answered_451_4_3_2_so_the_sender_retries_and_nothing_reaches_the_broker_disk()
    {
        await using var pipeline = await StartAsync(worker: false); // nobody reads email.inbound
        var port = await pipeline.StartInboundAsync();
        // Fill it to its shipped length limit, as a stream of junk to the MX would.
        await pipeline.Queues.PublishRawManyAsync(TopologyNames.InboundKey, Enumerable.Range(0, TopologyNames.InboundMaxLength)
            .Select(_ => (new BasicProperties { DeliveryMode = DeliveryModes.Persistent }, "x"u8.ToArray())));
        Assert.Equal((uint)TopologyNames.InboundMaxLength, await pipeline.Queues.CountAsync(pipeline.Names.InboundQueue));

        // A quorum queue checks its limit before each publish it takes, so the last one in may pass it by one.
        var replies = new List<string>();
        for (var i = 0; i < 3 && !replies.Any(r => r.StartsWith("451", StringComparison.Ordinal)); i++)
        {
            await using var smtp = await RawSmtp.ConnectAsync(port);
            replies.Add(await smtp.SendAsync("", [Postmaster], Encoding.ASCII.GetBytes("Subject: one more\r\n\r\nhi\r\n")));
        }
        Assert.StartsWith("451 4.3.2", replies[^1]);
        Assert.InRange(await pipeline.Queues.CountAsync(pipeline.Names.InboundQueue), (uint)TopologyNames.InboundMaxLength, (uint)TopologyNames.InboundMaxLength + 1);
    }
}
