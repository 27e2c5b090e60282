using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using MimeKit.Cryptography;
using Notifications.Core.Configuration;
using Notifications.Tests.Infrastructure;
using Notifications.Worker;
using Notifications.Worker.Signing;

namespace Notifications.Tests.Integration;

/// <summary>
/// DKIM: every kind of mail the API takes is signed with the From domain's RSA and Ed25519 keys, and the bytes the relay
/// received verify with MimeKit's verifier and with python3-dkim, which shares no code with the signer.
/// </summary>
public sealed class DkimTests
{
    private static readonly string LongLine = string.Concat(Enumerable.Repeat("0123456789", 250)); // 2,500 characters, no space

    public static TheoryData<string> Kinds => ["text", "html", "both", "utf8", "attachments", "template", "long-lines"];

    private static object Request(string kind) => kind switch
    {
        "text" => new { to = new[] { "bob@example.org" }, subject = "Plain", text = "Just text.\nTwo lines." },
        "html" => new { to = new[] { "bob@example.org" }, subject = "Html", html = "<p>Only <b>html</b>.</p>" },
        "both" => new { to = new[] { "Bob <bob@example.org>" }, cc = new[] { "carol@example.org" }, subject = "Both", text = "Text part.", html = "<p>Html part.</p>" },
        "utf8" => new
        {
            to = new[] { "Zoë Ünal <zoe@example.org>" }, subject = "Grüße aus Köln — ✓ 日本語", text = "Schöne Grüße, Zoë! Ça va? ✓\nПривет.",
            html = "<p>Schöne Grüße, <i>Zoë</i>! 日本語 ✓</p>",
        },
        "attachments" => new
        {
            to = new[] { "bob@example.org" }, subject = "Invoice", text = "attached", html = "<p><img src=\"cid:logo@acme\"> attached</p>",
            attachments = new object[]
            {
                new { filename = "invoice.pdf", contentType = "application/pdf", content = Convert.ToBase64String(RandomNumberGenerator.GetBytes(40_000)) },
                new { filename = "logo.png", contentType = "image/png", content = Convert.ToBase64String(RandomNumberGenerator.GetBytes(5_000)), contentId = "logo@acme" },
            },
        },
        "template" => new { to = new[] { "bob@example.org" }, template = "welcome", model = new { name = "Bob", product = "Acme", url = "https://acme.example/login", trial_days = (int?)14 } },
        "long-lines" => new { to = new[] { "bob@example.org" }, subject = "Long", text = LongLine + "\n" + LongLine, html = $"<p>{LongLine}</p>" },
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task Every_kind_of_mail_is_signed_with_both_keys_and_verifies_independently(string kind)
    {
        using var keys = new DkimTestKeys();
        await using var pipeline = await Pipeline.StartAsync(configure: keys.Configure);

        var id = await Jobs.PostAndGetIdAsync(pipeline.Http, Request(kind));

        await Eventually.TrueAsync(() => pipeline.Relay.AcceptedJobIds.Contains(id), "the mail");
        var raw = pipeline.Relay.Accepted.Single().Raw;
        var mimeKit = DkimVerifiers.MimeKit(raw, keys.Records);
        var independent = await DkimVerifiers.Independent(raw, keys.Records);
        Assert.Equal(2, mimeKit.Count);
        Assert.All(mimeKit, s => Assert.True(s.Verified, $"MimeKit: {s.Algorithm} signature of {s.Selector} does not verify"));
        Assert.Equal(["ed25519-sha256", "rsa-sha256"], mimeKit.Select(s => s.Algorithm).Order());
        Assert.Equal(2, independent.Count);
        Assert.All(independent, s => Assert.True(s.Verified, $"python3-dkim: the signature of {s.Selector} does not verify"));
    }

    [Fact]
    public async Task The_signature_is_relaxed_oversigns_From_covers_the_Message_ID_and_breaks_when_a_From_is_added_or_the_body_changed()
    {
        using var keys = new DkimTestKeys();
        await using var pipeline = await Pipeline.StartAsync(configure: keys.Configure);

        var id = await Jobs.PostAndGetIdAsync(pipeline.Http, Request("utf8"));

        await Eventually.TrueAsync(() => pipeline.Relay.AcceptedJobIds.Contains(id), "the mail");
        var received = pipeline.Relay.Accepted.Single();
        var signature = received.Message.Headers.First(h => h.Id == MimeKit.HeaderId.DkimSignature).Value;
        var tags = signature.Split(';').Select(t => t.Trim().Split('=', 2)).ToDictionary(t => t[0].Trim(), t => t[1].Trim());
        Assert.Equal("relaxed/relaxed", tags["c"]);
        Assert.Equal(DkimTestKeys.Domain, tags["d"]);
        var signed = tags["h"].Replace(" ", "").Replace("\r\n", "").Replace("\t", "").ToLowerInvariant().Split(':');
        Assert.Equal(2, signed.Count(h => h == "from"));
        Assert.Contains("message-id", signed);
        Assert.Contains("date", signed);
        Assert.Contains("subject", signed);

        var text = Encoding.ASCII.GetString(received.Raw);
        var secondFrom = Encoding.ASCII.GetBytes("From: attacker@evil.example\r\n" + text);
        var headerEnd = text.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4;
        var changedBody = Encoding.ASCII.GetBytes(text[..headerEnd] + "X" + text[headerEnd..]);
        Assert.All(await DkimVerifiers.Independent(secondFrom, keys.Records), s => Assert.False(s.Verified, "a second From must break the signature"));
        Assert.All(await DkimVerifiers.Independent(changedBody, keys.Records), s => Assert.False(s.Verified, "a changed body must break the signature"));
    }

    [Fact]
    public async Task Mail_from_a_domain_without_a_key_goes_unsigned()
    {
        using var keys = new DkimTestKeys();
        await using var pipeline = await Pipeline.StartAsync(configure: s =>
        {
            s["Dkim:Keys:0:Domain"] = "other.example";
            s["Dkim:Keys:0:Selector"] = DkimTestKeys.RsaSelector;
            s["Dkim:Keys:0:KeyFile"] = keys.RsaFile;
        });

        var id = await Jobs.PostAndGetIdAsync(pipeline.Http, Request("text"));

        await Eventually.TrueAsync(() => pipeline.Relay.AcceptedJobIds.Contains(id), "the mail");
        Assert.DoesNotContain(pipeline.Relay.Accepted.Single().Message.Headers, h => h.Id == MimeKit.HeaderId.DkimSignature);
    }

    [Fact]
    public void Rotation_signs_with_the_newest_key_whose_NotBefore_has_passed_and_each_algorithm_on_its_own()
    {
        using var keys = new DkimTestKeys();
        using var next = RSA.Create(2048);
        var nextFile = keys.Write("next.pem", next.ExportPkcs8PrivateKeyPem());
        var takeover = new DateTimeOffset(2027, 1, 15, 0, 0, 0, TimeSpan.Zero);
        var ring = new DkimKeyRing(Options.Create(new DkimOptions
        {
            Keys =
            [
                new DkimKeyOptions { Domain = "Example.COM", Selector = "old", KeyFile = keys.RsaFile },
                new DkimKeyOptions { Domain = "example.com", Selector = "ed", KeyFile = keys.Ed25519File },
                new DkimKeyOptions { Domain = "example.com", Selector = "new", KeyFile = nextFile, NotBefore = takeover },
            ],
        }));

        Assert.Equal(["ed", "old"], ring.SigningNow("example.com", takeover.AddSeconds(-1)).Select(k => k.Selector).Order());
        Assert.Equal(["ed", "new"], ring.SigningNow("example.com", takeover).Select(k => k.Selector).Order());
        Assert.Empty(ring.SigningNow("example.org", takeover));
        Assert.StartsWith("v=DKIM1; k=rsa; p=MIIBIjAN", ring.Keys[0].RecordValue);
        Assert.Equal("ed._domainkey.example.com", ring.Keys[1].RecordName);
        Assert.Equal(DkimSignatureAlgorithm.Ed25519Sha256, ring.Keys[1].Algorithm);
    }

    [Fact]
    public async Task One_key_signs_many_mails_at_once_and_every_signature_verifies()
    {
        using var keys = new DkimTestKeys();
        var ring = new DkimKeyRing(Options.Create(new DkimOptions
        {
            Keys = [new DkimKeyOptions { Domain = DkimTestKeys.Domain, Selector = DkimTestKeys.RsaSelector, KeyFile = keys.RsaFile }],
        }));
        var key = ring.Keys.Single();

        // As the worker does: up to RabbitMq:Concurrency sends sign with the one key at the same time.
        var raws = await Task.WhenAll(Enumerable.Range(0, 64).Select(i => Task.Run(() =>
        {
            var message = Notifications.Worker.Sending.MimeMessageFactory.Build(new Notifications.Core.Contract.EmailJob
            {
                Id = $"job-{i}", CreatedAt = DateTimeOffset.UtcNow, From = "shop@example.com", To = [$"c{i}@example.org"],
                Subject = $"Order {i}", Text = new string('x', 500 + i),
            });
            message.Prepare(MimeKit.EncodingConstraint.SevenBit);
            key.Signer.Sign(MimeKit.FormatOptions.Default, message, Notifications.Worker.SendPath.SignStep.HeadersOf(message));
            using var stream = new MemoryStream();
            message.WriteTo(MimeKit.FormatOptions.Default, stream);
            return stream.ToArray();
        })));

        Assert.All(raws, raw => Assert.True(DkimVerifiers.MimeKit(raw, keys.Records).Single().Verified));
    }

    public static TheoryData<string, string> BadKeys => new()
    {
        { "missing", "does not exist" },
        { "garbage", "is not a PEM private key" },
        { "public", "holds no private key" },
        { "short", "too short to sign" },
        { "no-domain", "is not a domain name" },
    };

    [Theory]
    [MemberData(nameof(BadKeys))]
    public async Task A_bad_key_stops_the_worker_at_start_up_with_one_line_naming_it_and_never_its_contents(string kind, string problem)
    {
        using var keys = new DkimTestKeys();
        using var shortKey = RSA.Create(512);
        using var rsa = RSA.Create(2048);
        var settings = new Dictionary<string, string?>
        {
            ["RabbitMq:Uri"] = "amqp://guest:guest@127.0.0.1:1/",
            ["Dkim:Keys:0:Domain"] = kind == "no-domain" ? "not a domain" : "example.com",
            ["Dkim:Keys:0:Selector"] = "s1",
            ["Dkim:Keys:0:KeyFile"] = kind switch
            {
                "missing" => Path.Combine(Path.GetTempPath(), $"no-such-key-{Guid.NewGuid():N}.pem"),
                "garbage" => keys.Write("garbage.pem", "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n"),
                "public" => keys.Write("public.pem", rsa.ExportSubjectPublicKeyInfoPem()),
                "short" => keys.Write("short.pem", shortKey.ExportPkcs8PrivateKeyPem()),
                _ => keys.RsaFile,
            },
        };
        var line = await StartupAttempt.WorkerRefusesAsync(settings);

        Assert.Contains("Dkim:Keys:0", line);
        Assert.Contains(problem, line);
        Assert.DoesNotContain("PRIVATE KEY", line);
    }

    [Fact]
    public async Task With_Dkim_Required_a_client_domain_without_a_key_stops_start_up_naming_client_and_domain()
    {
        using var keys = new DkimTestKeys();
        var settings = new Dictionary<string, string?>
        {
            ["RabbitMq:Uri"] = "amqp://guest:guest@127.0.0.1:1/",
            ["Dkim:Required"] = "true",
            ["Dkim:Keys:0:Domain"] = "example.com",
            ["Dkim:Keys:0:Selector"] = "s1",
            ["Dkim:Keys:0:KeyFile"] = keys.RsaFile,
            [$"Clients:shop:KeyHashes:0"] = TestClients.KeyHash,
            [$"Clients:shop:AllowedFrom:0"] = "orders@shop.example",
        };
        var line = await StartupAttempt.WorkerRefusesAsync(settings);

        Assert.Contains("Dkim:Required", line);
        Assert.Contains("'shop'", line);
        Assert.Contains("shop.example", line);
    }
}
