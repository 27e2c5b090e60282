using System.Collections.Concurrent;
using System.Net;
using Deque.AxeCore.Playwright;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Notifications.Core.Clients;
using Notifications.Core.Store;
using Notifications.Tests.Infrastructure;
using SmtpServer.Protocol;

namespace Notifications.Tests.Integration;

/// <summary>
/// The operator console in a real browser (Debian's Chromium through Playwright) against the real API, worker and
/// broker: sign-in and out, groups, search, one letter, a group replayed and seen sent, a delete, a mail's script kept
/// from running, a POST without its antiforgery token, and axe's accessibility rules on every page. Each test mails its
/// own domains, so the tests share one stack and still count only their own letters.
/// </summary>
public sealed class ConsoleTests(ConsoleTests.Stack stack) : IClassFixture<ConsoleTests.Stack>
{
    public sealed class Stack : IAsyncLifetime
    {
        public static readonly string OperatorKey = TestClients.NewKey();

        /// <summary>
        /// Domains whose server is down: the relay defers their mail (451) until they are healed, so their jobs go dead
        /// after the retries (a 5.1.1 would suppress the address, and a replay would rightly not send it).
        /// </summary>
        public ConcurrentDictionary<string, bool> Refusing { get; } = new(StringComparer.OrdinalIgnoreCase);

        public Pipeline Pipeline { get; private set; } = null!;
        public ConsoleBrowser Browser { get; } = new();

        public async Task InitializeAsync()
        {
            var relay = new TestRelay
            {
                RecipientRule = address => Refusing.ContainsKey(address[(address.IndexOf('@') + 1)..])
                    ? new SmtpResponse((SmtpReplyCode)451, $"4.4.1 <{address}>: host mx.{address[(address.IndexOf('@') + 1)..]} said: connection timed out")
                    : null,
            };
            Pipeline = await Pipeline.StartAsync(relay: relay, configure: settings =>
            {
                settings["Clients:ops:KeyHashes:0"] = ClientRegistry.HashOf(OperatorKey);
                settings["Clients:ops:Operator"] = "true";
            });
            await Browser.InitializeAsync();
        }

        public async Task DisposeAsync()
        {
            await Browser.DisposeAsync();
            await Pipeline.DisposeAsync();
        }

        public string BaseUrl => Pipeline.Http.BaseAddress!.ToString().TrimEnd('/');

        /// <summary>Jobs to <paramref name="count"/> recipients of a domain the relay refuses, once each is in the console's index.</summary>
        public async Task<List<string>> DeadJobsAsync(string domain, int count, string subject = "Your invoice", string? html = null)
        {
            Refusing[domain] = true;
            var ids = new List<string>();
            for (var i = 0; i < count; i++)
                ids.Add(await Jobs.PostAndGetIdAsync(Pipeline.Http, new
                {
                    to = new[] { $"user{i}@{domain}" },
                    subject,
                    text = $"Invoice {i} is attached.",
                    html = html ?? $"<p>Invoice {i}</p>",
                }));
            var index = Pipeline.ApiServices.GetRequiredService<IDeadLetterIndex>();
            await Eventually.ReturnsAsync(async () => (await index.LoadDeadLettersAsync(CancellationToken.None)).Count(e => e.Domain == domain),
                indexed => indexed == count, $"{count} dead letters of {domain} in the index");
            return ids;
        }

        public async Task<int> DeadInIndexAsync(string domain) =>
            (await Pipeline.ApiServices.GetRequiredService<IDeadLetterIndex>().LoadDeadLettersAsync(CancellationToken.None)).Count(e => e.Domain == domain);
    }

    private static string Domain(string what) => $"{what}-{Guid.NewGuid():N}"[..20] + ".example";

    private async Task<IPage> SignedInAsync(IBrowserContext context)
    {
        var page = await context.NewPageAsync();
        await page.GotoAsync("/console/sign-in");
        await page.FillAsync("#key", Stack.OperatorKey);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await page.WaitForURLAsync(url => url.EndsWith("/console", StringComparison.Ordinal));
        return page;
    }

    [Fact]
    public async Task Sign_in_takes_an_operator_key_only_sets_a_strict_http_only_cookie_and_sign_out_ends_it()
    {
        await using var context = await stack.Browser.NewContextAsync(stack.BaseUrl);
        var page = await context.NewPageAsync();

        // Not signed in: any console page leads to the sign-in.
        await page.GotoAsync("/console/dead-letters");
        Assert.Contains("/console/sign-in", page.Url);

        // A key of no client, and a client's key that is not an operator's: refused, with the same words.
        foreach (var refused in new[] { "ntf_not_a_key_of_anyone", TestClients.Key })
        {
            await page.FillAsync("#key", refused);
            var answer = await page.RunAndWaitForResponseAsync(
                () => page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync(), r => r.Request.Method == "POST");
            Assert.Equal(401, answer.Status);
            Assert.Contains("not an operator's", await page.Locator("[role=alert]").InnerTextAsync());
            Assert.DoesNotContain(refused, await page.ContentAsync()); // the key is never echoed
            Assert.DoesNotContain(await context.CookiesAsync(), c => c.Name == "notifications-console");
        }

        await page.FillAsync("#key", Stack.OperatorKey);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await page.WaitForURLAsync(url => url.EndsWith("/console/dead-letters", StringComparison.Ordinal)); // where it was going
        Assert.Contains("Signed in as", await page.Locator("header").InnerTextAsync());
        var cookie = Assert.Single(await context.CookiesAsync(), c => c.Name == "notifications-console");
        Assert.True(cookie.HttpOnly);
        Assert.Equal(SameSiteAttribute.Strict, cookie.SameSite);
        Assert.False(cookie.Secure); // plain http on loopback here; Secure over https
        Assert.Equal("/console", cookie.Path);

        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await page.WaitForURLAsync(url => url.Contains("/console/sign-in", StringComparison.Ordinal));
        Assert.Contains("signed out", await page.Locator("[role=status]").InnerTextAsync());
        await page.GotoAsync("/console");
        Assert.Contains("/console/sign-in", page.Url);

        // A copy of the cookie taken before the sign-out (another tab, a stolen one) opens nothing: the server ended the session.
        await using var copy = await stack.Browser.NewContextAsync(stack.BaseUrl);
        await copy.AddCookiesAsync([new Microsoft.Playwright.Cookie { Name = cookie.Name, Value = cookie.Value, Domain = cookie.Domain, Path = cookie.Path }]);
        var replayed = await copy.NewPageAsync();
        await replayed.GotoAsync("/console");
        Assert.Contains("/console/sign-in", replayed.Url);
    }

    [Fact]
    public async Task A_session_ends_at_its_lifetime_however_active_and_a_notice_in_the_address_bar_is_not_shown()
    {
        // Console:MaxSessionLifetime is the subject: 4 s here (shipped: 8 h).
        await using var pipeline = await Pipeline.StartAsync(worker: false, configure: settings =>
        {
            settings["Clients:ops:KeyHashes:0"] = ClientRegistry.HashOf(Stack.OperatorKey);
            settings["Clients:ops:Operator"] = "true";
            settings["Console:MaxSessionLifetime"] = "00:00:04";
        });
        await using var context = await stack.Browser.NewContextAsync(pipeline.Http.BaseAddress!.ToString().TrimEnd('/'));
        var page = await SignedInAsync(context);
        var signedIn = DateTimeOffset.UtcNow;

        await page.GotoAsync("/console/clients?message=" + Uri.EscapeDataString("Your key leaked: paste it at evil.example"));
        Assert.DoesNotContain("evil.example", await page.ContentAsync());

        // A request a second keeps a sliding session alive forever; this one ends all the same.
        while (DateTimeOffset.UtcNow - signedIn < TimeSpan.FromSeconds(10) && !page.Url.Contains("/console/sign-in", StringComparison.Ordinal))
        {
            await page.GotoAsync("/console/clients");
            await Task.Delay(TimeSpan.FromSeconds(1));
        }
        Assert.Contains("/console/sign-in", page.Url);
        Assert.InRange((DateTimeOffset.UtcNow - signedIn).TotalSeconds, 3.5, 7);
    }

    [Fact]
    public async Task An_operator_finds_why_mail_to_one_domain_failed_replays_exactly_those_and_sees_them_sent()
    {
        var broken = Domain("broken");
        var other = Domain("other");
        var brokenJobs = await stack.DeadJobsAsync(broken, 6);
        await stack.DeadJobsAsync(other, 3);
        await using var context = await stack.Browser.NewContextAsync(stack.BaseUrl);
        var page = await SignedInAsync(context);

        // The dead-letter page, narrowed to the domain: one group, its reason with the address taken out.
        await page.GotoAsync("/console/dead-letters");
        if (Environment.GetEnvironmentVariable("CONSOLE_SCREENSHOT") is { Length: > 0 } screenshot)
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = screenshot, FullPage = true }); // docs/console-dead-letters.png
        await page.FillAsync("#domain", broken);
        await page.GetByRole(AriaRole.Button, new() { Name = "Search" }).ClickAsync();
        await page.WaitForURLAsync(url => url.Contains("domain=", StringComparison.Ordinal));
        var rows = page.Locator("table[aria-describedby=groups] tbody tr");
        Assert.Equal(1, await rows.CountAsync());
        var group = await rows.First.InnerTextAsync();
        Assert.Contains("6", group);
        Assert.Contains("transient", group);
        var reason = await rows.First.Locator("td.reason").InnerTextAsync();
        Assert.StartsWith("SMTP 451", reason);
        Assert.DoesNotContain("@", reason); // the addresses are taken out: one group for all six
        Assert.Contains(broken, group);
        Assert.Equal(6, await page.Locator("table[aria-describedby=letters] tbody tr").CountAsync());

        // Replay that group: a count to confirm, then progress and a result that says how many moved.
        await rows.First.GetByRole(AriaRole.Link, new() { NameRegex = new System.Text.RegularExpressions.Regex("^Replay") }).ClickAsync();
        var confirm = await page.Locator("main").InnerTextAsync();
        Assert.True(confirm.Contains("Replay 6 dead letter(s)", StringComparison.Ordinal), confirm + " at " + page.Url);
        stack.Refusing.TryRemove(broken, out _); // the domain's server is fixed
        await page.GetByRole(AriaRole.Button, new() { Name = "Replay 6" }).ClickAsync();
        await page.WaitForURLAsync(url => url.Contains("/console/operations/", StringComparison.Ordinal));
        var result = page.Locator(".notice[role=status]");
        await Assertions.Expect(result).ToContainTextAsync("6 replayed, 0 failed", new() { Timeout = 30_000 });

        // ... and sees them sent, without leaving the browser.
        await Eventually.TrueAsync(() => brokenJobs.All(id => stack.Pipeline.Relay.AcceptedJobIds.Contains(id)), "the replayed jobs mailed");
        // "Look again" is there only while the page lists the replayed jobs' states: reloading is what it does, and holds
        // when one look found none yet (the store busy under a loaded machine's CI).
        await Eventually.ReturnsAsync(async () =>
        {
            await page.ReloadAsync();
            return await page.Locator("main").InnerTextAsync();
        }, text => text.Contains("sent: 6", StringComparison.Ordinal), "the operation page showing the 6 jobs sent");
        Assert.Equal(1, await page.GetByRole(AriaRole.Link, new() { Name = "Look again" }).CountAsync());
        // Its page in the message log: the whole life, the operator's replay among it.
        await page.GetByRole(AriaRole.Link, new() { Name = brokenJobs[0] }).ClickAsync();
        var types = await Eventually.ReturnsAsync(async () =>
        {
            await page.ReloadAsync();
            return await page.Locator("table[aria-describedby=timeline] tbody tr td:nth-child(2)").AllInnerTextsAsync();
        }, t => t.Contains("sent"), "the message's timeline up to its send");
        Assert.Equal(["accepted", "attempt", "retry-scheduled", "attempt", "retry-scheduled", "attempt", "retry-scheduled", "attempt", "dead-lettered",
            "replayed", "attempt", "sent"], types);
        var timeline = await page.Locator("main").InnerTextAsync();
        Assert.Contains("by: console (ops)", timeline);
        Assert.Contains("4.4.1", timeline); // the relay's reply to each failed attempt

        // Exactly those: the other domain's letters are still dead, in the queue and in the index.
        Assert.Equal(0, await stack.DeadInIndexAsync(broken));
        Assert.Equal(3, await stack.DeadInIndexAsync(other));
        Assert.Equal(6, stack.Pipeline.Relay.AcceptedJobIds.Count(id => brokenJobs.Contains(id)));
    }

    [Fact]
    public async Task Search_finds_a_letter_its_page_shows_the_mail_without_running_its_script_and_delete_removes_it()
    {
        var domain = Domain("search");
        const string hostile = """
            <p id="hello">Hello</p>
            <script>document.title = 'pwned'; try { parent.document.title = 'pwned' } catch (e) {} alert('pwned');</script>
            <img src="x" onerror="document.title = 'pwned'; alert('pwned')">
            """;
        var ids = await stack.DeadJobsAsync(domain, 1, subject: "Quarterly statement zebra-42", html: hostile);
        await stack.DeadJobsAsync(Domain("search"), 2, subject: "Something else");
        await using var context = await stack.Browser.NewContextAsync(stack.BaseUrl);
        var page = await SignedInAsync(context);
        var dialogs = new List<string>();
        page.Dialog += (_, dialog) =>
        {
            dialogs.Add(dialog.Message);
            _ = dialog.DismissAsync();
        };

        await page.GotoAsync("/console/dead-letters");
        await page.FillAsync("#q", "zebra-42");
        await page.GetByRole(AriaRole.Button, new() { Name = "Search" }).ClickAsync();
        await page.WaitForURLAsync(url => url.Contains("q=zebra-42", StringComparison.Ordinal));
        var letters = page.Locator("table[aria-describedby=letters] tbody tr");
        Assert.Equal(1, await letters.CountAsync());

        await letters.First.GetByRole(AriaRole.Link, new() { Name = ids[0] }).ClickAsync();
        var main = await page.Locator("main").InnerTextAsync();
        Assert.Contains("Quarterly statement zebra-42", main);
        Assert.Contains("Invoice 0 is attached.", main); // the text body
        Assert.Contains("x-failure-kind", main); // the headers
        Assert.Contains("<p id=", main); // the body as queued reads as the mail says it (JSON-quoted, but not \u003Cp ...)
        Assert.DoesNotContain("\\u003C", main);
        var frame = page.FrameLocator("iframe.mail");
        await Assertions.Expect(frame.Locator("#hello")).ToHaveTextAsync("Hello");
        await page.WaitForTimeoutAsync(500); // time for a script or an onerror to have run, if it could
        Assert.Empty(dialogs);
        Assert.NotEqual("pwned", await page.TitleAsync());
        var html = await context.APIRequest.GetAsync($"/console/dead-letters/{ids[0]}/html");
        Assert.StartsWith("sandbox;", html.Headers["content-security-policy"]);
        Assert.Contains("default-src 'none'", (await page.GotoAsync($"/console/dead-letters/{ids[0]}"))!.Headers["content-security-policy"]);

        // Delete it: a count of one to confirm, then the result.
        await page.GetByRole(AriaRole.Link, new() { Name = "Delete this one" }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Delete 1" }).ClickAsync();
        await Assertions.Expect(page.Locator(".notice[role=status]")).ToContainTextAsync("1 deleted, 0 failed", new() { Timeout = 30_000 });
        Assert.Equal(0, await stack.DeadInIndexAsync(domain));
        var gone = await page.GotoAsync($"/console/dead-letters/{ids[0]}");
        Assert.Equal(404, gone!.Status);
    }

    [Fact]
    public async Task A_post_without_its_antiforgery_token_is_refused_and_changes_nothing()
    {
        var domain = Domain("forged");
        await stack.DeadJobsAsync(domain, 2);
        await using var context = await stack.Browser.NewContextAsync(stack.BaseUrl);
        await SignedInAsync(context); // the session cookie is there; the token is not
        var before = await stack.Pipeline.Queues.CountAsync(stack.Pipeline.Names.DeadQueue);

        var forged = await context.APIRequest.PostAsync("/console/dead-letters/confirm", new APIRequestContextOptions
        {
            Form = context.APIRequest.CreateFormData().Set("action", "delete").Set("domain", domain),
            MaxRedirects = 0,
        });
        Assert.Equal((int)HttpStatusCode.BadRequest, forged.Status);
        await Eventually.NeverAsync(async () => await stack.DeadInIndexAsync(domain) != 2, "a letter deleted by the forged post", TimeSpan.FromSeconds(1));
        Assert.Equal(before, await stack.Pipeline.Queues.CountAsync(stack.Pipeline.Names.DeadQueue));
    }

    [Fact]
    public async Task The_message_log_finds_a_sent_mail_by_recipient_and_its_page_shows_the_timeline_and_the_html_without_its_script()
    {
        var domain = Domain("log");
        const string hostile = """<p id="hello">Hello from the log</p><script>document.title = "ran";</script>""";
        var id = await Jobs.PostAndGetIdAsync(stack.Pipeline.Http, new { to = new[] { $"reader@{domain}" }, subject = "Monthly statement", text = "plain", html = hostile });
        await Eventually.TrueAsync(() => stack.Pipeline.Relay.AcceptedJobIds.Contains(id), "the mail sent");
        await using var context = await stack.Browser.NewContextAsync(stack.BaseUrl);
        var page = await SignedInAsync(context);

        await page.GotoAsync("/console/messages");
        await page.FillAsync("#recipient", $"READER@{domain}");
        await page.FillAsync("#subject", "statement");
        var row = await Eventually.ReturnsAsync(async () =>
        {
            await page.GetByRole(AriaRole.Button, new() { Name = "Search" }).ClickAsync();
            await page.WaitForURLAsync(url => url.Contains("recipient=", StringComparison.Ordinal));
            return await page.Locator("main table tbody tr").AllInnerTextsAsync();
        }, rows => rows.Count == 1 && rows[0].Contains("sent"), "the mail in the log's search");
        Assert.Contains("Monthly statement", row[0]);

        await page.Locator("main table tbody tr a").First.ClickAsync();
        await page.WaitForURLAsync(url => url.Contains($"/console/messages/{id}", StringComparison.Ordinal));
        var types = await page.Locator("table[aria-describedby=timeline] tbody tr td:nth-child(2)").AllInnerTextsAsync();
        Assert.Equal(["accepted", "attempt", "sent"], types.Take(3));
        var main = await page.Locator("main").InnerTextAsync();
        Assert.Contains($"relay: 127.0.0.1:{stack.Pipeline.Relay.Port}", main);
        Assert.Contains($"recipients: reader@{domain}", main);
        var frame = page.FrameLocator("iframe.mail");
        await Assertions.Expect(frame.Locator("#hello")).ToHaveTextAsync("Hello from the log");
        Assert.NotEqual("ran", await page.TitleAsync());
        await using var html = await context.APIRequest.GetAsync($"/console/messages/{id}/html");
        Assert.StartsWith("sandbox;", html.Headers["content-security-policy"]);

        // A bad filter is named on the page, not searched for.
        await page.GotoAsync("/console/messages?since=yesterday");
        Assert.Contains("since is an ISO 8601 time", await page.Locator("main").InnerTextAsync());
    }

    [Fact]
    public async Task Every_console_page_passes_axe_with_no_serious_or_critical_violation()
    {
        var domain = Domain("axe");
        var ids = await stack.DeadJobsAsync(domain, 2, html: "<p>Hello</p>");
        await using var context = await stack.Browser.NewContextAsync(stack.BaseUrl);
        var anonymous = await context.NewPageAsync();
        await anonymous.GotoAsync("/console/sign-in");
        var found = new List<string>();
        var rulesPassed = 0;
        await ScanAsync(anonymous, "/console/sign-in");

        var page = await SignedInAsync(context);
        foreach (var path in new[]
        {
            "/console", "/console/dead-letters", $"/console/dead-letters?domain={domain}", $"/console/dead-letters/{ids[0]}",
            $"/console/dead-letters/confirm?action=replay&domain={domain}", $"/console/jobs?q={ids[0]}", $"/console/jobs?q=user0@{domain}",
            "/console/suppressions", "/console/clients", $"/console/messages?recipient=user0@{domain}", $"/console/messages/{ids[0]}",
            "/console/messages?since=yesterday",
        })
        {
            await page.GotoAsync(path);
            await ScanAsync(page, path);
        }
        // And on a phone's screen.
        await page.SetViewportSizeAsync(390, 844);
        await page.GotoAsync("/console/dead-letters");
        await ScanAsync(page, "/console/dead-letters at 390x844");
        Assert.True(found.Count == 0, string.Join("\n", found));
        Assert.True(rulesPassed > 100, $"axe checked {rulesPassed} rules in all: did it run?");

        async Task ScanAsync(IPage at, string what)
        {
            // Not into frames: the only one is a mail's HTML in a sandbox without scripts, where axe cannot run (and which is
            // the sender's markup, not the console's); the frame element itself (its title) is checked on the page.
            var result = await at.RunAxe(new Deque.AxeCore.Commons.AxeRunOptions { Iframes = false }).WaitAsync(TimeSpan.FromSeconds(60));
            rulesPassed += result.Passes.Length;
            foreach (var violation in result.Violations.Where(v => v.Impact is "serious" or "critical"))
                found.Add($"{what}: {violation.Impact} {violation.Id}: {violation.Help} ({string.Join("; ", violation.Nodes.Select(n => n.Html))})");
        }
    }
}
