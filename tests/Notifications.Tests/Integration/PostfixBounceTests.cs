using System.Net.Http.Json;
using System.Text.Json;
using SmtpServer.Protocol;
using Notifications.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Notifications.Tests.Integration;

/// <summary>
/// A bounce nobody here wrote: the worker sends through a real Postfix, the recipient's server (the test relay) refuses
/// the recipient, Postfix writes its own DSN to the job's return path and delivers it to the inbound receiver.
/// </summary>
[Collection(PostfixMta.Collection)]
public sealed class PostfixBounceTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_DSN_written_by_Postfix_makes_the_job_bounced_and_suppresses_the_address()
    {
        await using var pipeline = await Pipeline.StartAsync(worker: false, configure: s =>
        {
            s["Bounces:Domain"] = BounceSamples.Domain;
            s["Bounces:Secret"] = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        });
        // The test relay is the recipient's server now: it refuses bob, as a mailbox that does not exist.
        pipeline.Relay.RecipientRule = address => address == "bob@example.org"
            ? new SmtpResponse(SmtpReplyCode.MailboxUnavailable, "5.1.1 <bob@example.org>: Recipient address rejected: User unknown")
            : null;
        var receiver = await pipeline.StartInboundAsync();
        await using var postfix = await PostfixMta.StartAsync(new Dictionary<string, int>
        {
            ["example.org"] = pipeline.Relay.Port,
            [BounceSamples.Domain] = receiver,
        });
        pipeline.Settings["Smtp:Port"] = postfix.Port.ToString();
        await pipeline.StartWorkerAsync();
        try
        {
            var id = await Jobs.PostAndGetIdAsync(pipeline.Http, new { to = new[] { "Bob <bob@example.org>" }, subject = "Your invoice", text = "Attached." });

            var status = await Eventually.ReturnsAsync(async () => await pipeline.Http.GetFromJsonAsync<JsonElement>($"/api/emails/{id}"),
                s => s.TryGetProperty("recipients", out var r) && r.ValueKind == JsonValueKind.Object && r.TryGetProperty("bounced", out _),
                "bob bounced, by Postfix's DSN", TimeSpan.FromSeconds(60));

            Assert.Equal("sent", status.GetProperty("status").GetString()); // Postfix said 250; the bounce came later
            var bounced = status.GetProperty("recipients").GetProperty("bounced")[0];
            Assert.Equal("bob@example.org", bounced.GetProperty("address").GetString());
            Assert.StartsWith("5.1.1", bounced.GetProperty("reply").GetString());
            var suppression = await pipeline.Http.GetFromJsonAsync<JsonElement>("/api/suppressions/bob@example.org");
            Assert.Contains("User unknown", suppression.GetProperty("reason").GetString());
            Assert.Empty(pipeline.Relay.Accepted);
            Assert.Contains("dsn=5.1.1", postfix.Log);
        }
        finally
        {
            output.WriteLine(postfix.Log);
        }
    }
}
