using Microsoft.Extensions.DependencyInjection;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Notifications.Tests.Infrastructure;

namespace Notifications.Tests.Integration;

/// <summary>Liquid templates rendered by the API: the job on the wire is the final mail.</summary>
public sealed class TemplateTests
{
    private static object WelcomeModel(string name = "Bob <script>") => new
    {
        name, product = "Acme", url = "https://acme.example/login?a=1&b=2", trial_days = (int?)null,
    };

    [Fact]
    public async Task A_template_with_a_model_is_rendered_before_publishing_html_encoded_in_html_only()
    {
        await using var pipeline = await Pipeline.StartAsync();

        var id = await Jobs.PostAndGetIdAsync(pipeline.Http, new { to = new[] { "bob@example.com" }, template = "welcome", model = WelcomeModel() });

        await Eventually.TrueAsync(() => pipeline.Relay.AcceptedJobIds.Contains(id), "the mail");
        var mail = pipeline.Relay.Accepted.Single().Message;
        Assert.Equal("Welcome to Acme, Bob <script>", mail.Subject);
        Assert.Contains("<p>Hello Bob &lt;script&gt;,</p>", mail.HtmlBody);
        Assert.Contains("href=\"https://acme.example/login?a=1&amp;b=2\"", mail.HtmlBody);
        Assert.Contains("Hello Bob <script>,", mail.TextBody);
        Assert.DoesNotContain("trial", mail.TextBody); // null: the {% if %} is false
    }

    [Fact]
    public async Task Names_that_are_not_templates_are_400_and_never_kept_so_callers_cannot_grow_the_cache()
    {
        await using var pipeline = await Pipeline.StartAsync(worker: false);
        var store = pipeline.ApiServices.GetRequiredService<Notifications.Api.Templates.TemplateStore>();

        for (var i = 0; i < 300; i++)
        {
            using var response = await pipeline.Http.PostAsJsonAsync("/api/send-email",
                new { to = new[] { "bob@example.com" }, template = $"nothing-{i}", model = new { } });
            Assert.Equal(System.Net.HttpStatusCode.BadRequest, response.StatusCode);
        }
        Assert.Equal(0, store.CachedCount);

        await Jobs.PostAndGetIdAsync(pipeline.Http, new { to = new[] { "bob@example.com" }, template = "welcome", model = WelcomeModel() });
        Assert.Equal(1, store.CachedCount); // a real template is kept
    }

    [Fact]
    public async Task A_model_without_a_variable_the_template_names_is_a_400_naming_template_file_line_and_variable()
    {
        await using var pipeline = await Pipeline.StartAsync(worker: false);

        using var response = await pipeline.Http.PostAsJsonAsync("/api/send-email",
            new { to = new[] { "bob@example.com" }, template = "welcome", model = new { name = "Bob", product = "Acme", trial_days = 3 } });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").GetProperty("template")[0].GetString();
        Assert.Equal("templates/welcome/html.liquid line 2: the model has no 'url'; give every variable the template names (null for none)", error);
        Assert.Equal(0u, await pipeline.Queues.CountAsync(pipeline.Names.SendQueue));
    }

    [Theory]
    [InlineData("{\"to\":[\"a@example.com\"],\"template\":\"nope\",\"model\":{}}", "there is no template 'nope'")]
    [InlineData("{\"to\":[\"a@example.com\"],\"template\":\"../etc\",\"model\":{}}", "is not a template name")]
    [InlineData("{\"to\":[\"a@example.com\"],\"template\":\"welcome\",\"subject\":\"s\",\"model\":{}}", "not both")]
    [InlineData("{\"to\":[\"a@example.com\"],\"subject\":\"s\",\"text\":\"t\",\"model\":{}}", "model goes with template")]
    [InlineData("{\"to\":[\"a@example.com\"],\"template\":\"welcome\",\"model\":[1]}", "model must be a JSON object")]
    public async Task Template_garbage_is_a_400_and_nothing_is_queued(string body, string problem)
    {
        await using var pipeline = await Pipeline.StartAsync(worker: false);

        using var response = await pipeline.Http.PostAsync("/api/send-email", Jobs.Json(body));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(problem, await response.Content.ReadAsStringAsync());
        Assert.Equal(0u, await pipeline.Queues.CountAsync(pipeline.Names.SendQueue));
    }

    [Fact]
    public async Task Templates_are_listed_and_a_preview_renders_without_sending()
    {
        await using var pipeline = await Pipeline.StartAsync(worker: false);

        var list = await pipeline.Http.GetFromJsonAsync<JsonElement>("/api/templates");
        using var preview = await pipeline.Http.PostAsJsonAsync("/api/templates/password-reset/preview", new { name = "Ann", product = "Acme", code = "4711", minutes = (int?)null });

        Assert.Contains(list.EnumerateArray(), t => t.GetProperty("name").GetString() == "welcome"
            && t.GetProperty("parts").EnumerateArray().Select(p => p.GetString()).SequenceEqual(["subject", "html", "text"]));
        Assert.Equal(HttpStatusCode.OK, preview.StatusCode);
        var mail = await preview.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("Your Acme password reset code", mail.GetProperty("subject").GetString());
        Assert.Contains("It expires in 15 minutes.", mail.GetProperty("text").GetString()); // null -> the default filter
        Assert.Contains("<b>4711</b>", mail.GetProperty("html").GetString());
        Assert.Equal(0u, await pipeline.Queues.CountAsync(pipeline.Names.SendQueue));
    }

    [Fact]
    public async Task A_changed_template_is_parsed_again_and_a_broken_one_is_a_400_naming_file_and_position()
    {
        var folder = Directory.CreateTempSubdirectory("templates-");
        var note = Directory.CreateDirectory(Path.Combine(folder.FullName, "note"));
        await File.WriteAllTextAsync(Path.Combine(note.FullName, "subject.liquid"), "Note for {{ who }}");
        await File.WriteAllTextAsync(Path.Combine(note.FullName, "text.liquid"), "first version");
        try
        {
            await using var pipeline = await Pipeline.StartAsync(worker: false, configure: s => s["Templates:Path"] = folder.FullName);
            var first = await (await pipeline.Http.PostAsJsonAsync("/api/templates/note/preview", new { who = "Ann" })).Content.ReadFromJsonAsync<JsonElement>();

            await File.WriteAllTextAsync(Path.Combine(note.FullName, "text.liquid"), "second version");
            File.SetLastWriteTimeUtc(Path.Combine(note.FullName, "text.liquid"), DateTime.UtcNow.AddSeconds(5));
            var second = await Eventually.ReturnsAsync(async () => await (await pipeline.Http.PostAsJsonAsync("/api/templates/note/preview", new { who = "Ann" }))
                .Content.ReadFromJsonAsync<JsonElement>(), m => m.GetProperty("text").GetString() == "second version", "the new version");
            await File.WriteAllTextAsync(Path.Combine(note.FullName, "text.liquid"), "line one\n{% if who %}unclosed");
            File.SetLastWriteTimeUtc(Path.Combine(note.FullName, "text.liquid"), DateTime.UtcNow.AddSeconds(10));
            var broken = await Eventually.ReturnsAsync(() => pipeline.Http.PostAsJsonAsync("/api/templates/note/preview", new { who = "Ann" }),
                r => r.StatusCode == HttpStatusCode.BadRequest, "the broken version to be refused");

            Assert.Equal("first version", first.GetProperty("text").GetString());
            Assert.Equal("Note for Ann", second.GetProperty("subject").GetString());
            Assert.Contains("templates/note/text.liquid does not parse", await broken.Content.ReadAsStringAsync());
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }
}
