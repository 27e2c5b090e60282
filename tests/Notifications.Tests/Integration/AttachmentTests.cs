using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using MimeKit;
using Notifications.Tests.Infrastructure;

namespace Notifications.Tests.Integration;

/// <summary>Files sent with a mail: they reach the relay byte for byte; names and types that could do harm are refused.</summary>
public sealed class AttachmentTests
{
    [Fact]
    public async Task An_attachment_and_an_inline_image_arrive_intact_at_the_relay()
    {
        await using var pipeline = await Pipeline.StartAsync();
        var pdf = RandomNumberGenerator.GetBytes(300_000);
        var png = RandomNumberGenerator.GetBytes(20_000);

        var id = await Jobs.PostAndGetIdAsync(pipeline.Http, new
        {
            to = new[] { "bob@example.com" }, subject = "Your invoice", text = "attached", html = "<p><img src=\"cid:logo@acme\"> attached</p>",
            attachments = new object[]
            {
                new { filename = "invoice 4711.pdf", contentType = "application/pdf", content = Convert.ToBase64String(pdf) },
                new { filename = "logo.png", contentType = "image/png", content = Convert.ToBase64String(png), contentId = "logo@acme" },
            },
        });

        await Eventually.TrueAsync(() => pipeline.Relay.AcceptedJobIds.Contains(id), "the mail");
        var mail = pipeline.Relay.Accepted.Single().Message;
        var attachment = Assert.Single(mail.Attachments.OfType<MimePart>());
        Assert.Equal(("invoice 4711.pdf", "application/pdf"), (attachment.FileName, attachment.ContentType.MimeType));
        Assert.Equal(pdf, Bytes(attachment));
        var inline = mail.BodyParts.OfType<MimePart>().Single(p => p.ContentId == "logo@acme");
        Assert.Equal(("logo.png", "image/png"), (inline.FileName, inline.ContentType.MimeType));
        Assert.Equal(png, Bytes(inline));
    }

    [Theory]
    [InlineData("../../etc/passwd", "text/plain", "aGVsbG8=", null, "attachments[0].filename")]
    [InlineData("setup.EXE", "application/octet-stream", "aGVsbG8=", null, "attachments[0].filename")]
    [InlineData("run.js.", "text/plain", "aGVsbG8=", null, "attachments[0].filename")]
    [InlineData("a\r\nBcc: x@evil.example", "text/plain", "aGVsbG8=", null, "attachments[0].filename")]
    [InlineData("a.txt", "text", "aGVsbG8=", null, "attachments[0].contentType")]
    [InlineData("a.txt", "text/plain\r\nX-Evil: 1", "aGVsbG8=", null, "attachments[0].contentType")]
    [InlineData("a.txt", "text/plain", "not base64!", null, "attachments[0].content")]
    [InlineData("a.txt", "text/plain", "aGVsbG8=", "<logo>", "attachments[0].contentId")]
    public async Task A_harmful_or_broken_attachment_is_a_400_naming_it_and_nothing_is_queued(string filename, string contentType, string content,
        string? contentId, string field)
    {
        await using var pipeline = await Pipeline.StartAsync(worker: false);

        using var response = await pipeline.Http.PostAsJsonAsync("/api/send-email", new
        {
            to = new[] { "bob@example.com" }, subject = "s", text = "t",
            attachments = new[] { new { filename, contentType, content, contentId } },
        });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains($"\"{field}\"", await response.Content.ReadAsStringAsync());
        Assert.Equal(0u, await pipeline.Queues.CountAsync(pipeline.Names.SendQueue));
    }

    private static byte[] Bytes(MimePart part)
    {
        using var stream = new MemoryStream();
        part.Content!.DecodeTo(stream);
        return stream.ToArray();
    }
}
