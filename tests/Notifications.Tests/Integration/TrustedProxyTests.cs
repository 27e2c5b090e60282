using System.Net;
using Notifications.Tests.Infrastructure;

namespace Notifications.Tests.Integration;

/// <summary>
/// Behind the TLS proxy that an https <c>Unsubscribe:BaseUrl</c> needs: the API believes <c>X-Forwarded-*</c> from the
/// proxies it is told of, and from nobody else.
/// </summary>
public sealed class TrustedProxyTests
{
    private static readonly string Secret = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));

    private static Task<Pipeline> StartAsync(bool trustLoopback) =>
        Pipeline.StartAsync(worker: false, configure: s =>
        {
            s["Unsubscribe:BaseUrl"] = "https://mail.example.com/";
            s["Unsubscribe:Secret"] = Secret;
            s["Unsubscribe:PerAddressPerMinute"] = "5"; // the limit these tests are about
            if (trustLoopback)
                s["Api:ForwardedHeaders:KnownProxies:0"] = "127.0.0.1";
        });

    private static async Task<List<HttpStatusCode>> UnsubscribeAsync(Pipeline pipeline, IEnumerable<string> forwardedFor)
    {
        using var anonymous = pipeline.NewClient(key: null);
        var codes = new List<HttpStatusCode>();
        foreach (var caller in forwardedFor)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/unsubscribe/" + new string('A', 60));
            request.Headers.Add("X-Forwarded-For", caller);
            using var answer = await anonymous.SendAsync(request);
            codes.Add(answer.StatusCode);
        }
        return codes;
    }

    private static async Task<string> ConsoleCookiesAsync(Pipeline pipeline, string proto)
    {
        using var anonymous = pipeline.NewClient(key: null);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/console/sign-in");
        request.Headers.Add("X-Forwarded-Proto", proto);
        using var answer = await anonymous.SendAsync(request);
        answer.EnsureSuccessStatusCode();
        return string.Join("\n", answer.Headers.GetValues("Set-Cookie"));
    }

    [Fact]
    public async Task Behind_a_known_proxy_each_real_caller_has_its_own_unsubscribe_budget_and_console_cookies_are_secure()
    {
        await using var pipeline = await StartAsync(trustLoopback: true);

        var many = await UnsubscribeAsync(pipeline, Enumerable.Range(1, 8).Select(i => $"203.0.113.{i}"));
        var one = await UnsubscribeAsync(pipeline, Enumerable.Repeat("198.51.100.9", 6));

        Assert.All(many, code => Assert.Equal(HttpStatusCode.NotFound, code)); // eight callers, one request each
        Assert.Equal([.. Enumerable.Repeat(HttpStatusCode.NotFound, 5), HttpStatusCode.TooManyRequests], one);
        Assert.Contains("secure", await ConsoleCookiesAsync(pipeline, "https"), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task With_no_proxy_configured_forwarded_headers_are_not_believed()
    {
        await using var pipeline = await StartAsync(trustLoopback: false);

        var codes = await UnsubscribeAsync(pipeline, Enumerable.Range(1, 8).Select(i => $"203.0.113.{i}"));

        Assert.Equal(3, codes.Count(c => c == HttpStatusCode.TooManyRequests)); // one caller (the connection's), whatever the header says
        Assert.DoesNotContain("secure", await ConsoleCookiesAsync(pipeline, "https"), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_proxy_that_is_not_an_address_stops_start_up_with_one_line()
    {
        var failure = await Assert.ThrowsAnyAsync<Exception>(() => Pipeline.StartAsync(worker: false,
            configure: s => s["Api:ForwardedHeaders:KnownNetworks:0"] = "10.0.0.0/99"));
        Assert.Contains("Api:ForwardedHeaders:KnownNetworks: '10.0.0.0/99' is not a network", failure.ToString());
    }
}
