using System.Collections.Concurrent;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.RegularExpressions;
using Fluid;
using Fluid.Values;
using Microsoft.Extensions.Options;

namespace Notifications.Api.Templates;

/// <summary>
/// The Liquid templates of <c>Templates:Path</c> (Fluid): each parsed once and kept (at most <see cref="MaxCached"/>), parsed
/// again when its files change (checked at most once a second per template); files are read asynchronously. Rendering is strict: every variable a template names must be in the
/// model (null is a value: pass it for "not given"), so a missing one is a 400, never a mail with a hole in it. HTML is
/// encoded in <c>html.liquid</c>; the subject and the text are not.
/// </summary>
public sealed partial class TemplateStore(IOptions<TemplatesOptions> options, TimeProvider clock)
{
    public static readonly string[] Parts = ["subject", "html", "text"];
    private static readonly TimeSpan RecheckEvery = TimeSpan.FromSeconds(1);
    private static readonly FluidParser Parser = new();

    private readonly string _root = Path.GetFullPath(options.Value.Path, AppContext.BaseDirectory);
    private readonly ConcurrentDictionary<string, Loaded> _cache = new(StringComparer.Ordinal);
    private readonly TemplateOptions _fluid = new() { MaxSteps = 100_000 };

    public string Root => _root;

    /// <summary>The templates there are, with the parts each has.</summary>
    public IReadOnlyList<TemplateInfo> List() => !Directory.Exists(_root)
        ? []
        : [.. Directory.EnumerateDirectories(_root).Select(Path.GetFileName).OfType<string>().Where(IsName).Order(StringComparer.Ordinal)
            .Select(name => new TemplateInfo(name, [.. Parts.Where(part => File.Exists(FileOf(name, part)))]))
            .Where(t => t.Parts.Count > 0)];

    /// <summary>Renders a template with a model (a JSON object).</summary>
    /// <returns>the subject, html and text (null for a part the template does not have), or what is wrong, naming template, file and line.</returns>
    public async Task<(RenderedMail? Mail, string? Problem)> RenderAsync(string name, JsonElement? model)
    {
        if (!IsName(name))
            return (null, $"'{name}' is not a template name (letters, digits, '-', '_')");
        if (model is { ValueKind: not (JsonValueKind.Object or JsonValueKind.Undefined or JsonValueKind.Null) })
            return (null, "model must be a JSON object");
        var loaded = await LoadAsync(name);
        if (loaded.Problem is not null)
            return (null, loaded.Problem);
        if (loaded.Templates.Count == 0)
            return (null, $"there is no template '{name}' in {Templates(name)}");

        var missing = new List<string>();
        var context = new TemplateContext(_fluid);
        context.Undefined = undefined =>
        {
            missing.Add(undefined);
            return ValueTask.FromResult<FluidValue>(NilValue.Instance);
        };
        if (model is { ValueKind: JsonValueKind.Object } values)
            foreach (var property in values.EnumerateObject())
                context.SetValue(property.Name, ToValue(property.Value) is { } converted ? FluidValue.Create(converted, _fluid) : NilValue.Instance);

        var rendered = new Dictionary<string, string>();
        foreach (var (part, template) in loaded.Templates)
        {
            missing.Clear();
            string output;
            try
            {
                output = await template.Template.RenderAsync(context, part == "html" ? HtmlEncoder.Default : NullEncoder.Default);
            }
            catch (Exception ex) when (ex is InvalidOperationException or ParseException or ArgumentException or FormatException)
            {
                return (null, $"{Templates(name)}/{part}.liquid: {ex.Message}");
            }
            if (missing.Count > 0)
            {
                var first = missing[0];
                return (null, $"{Templates(name)}/{part}.liquid line {LineOf(template.Source, first)}: the model has no '{first}'" +
                    (missing.Distinct().Count() > 1 ? $" (nor {string.Join(", ", missing.Distinct().Skip(1).Select(m => $"'{m}'"))})" : "") +
                    "; give every variable the template names (null for none)");
            }
            rendered[part] = part == "subject" ? output.Trim() : output;
        }
        return (new RenderedMail(rendered.GetValueOrDefault("subject"), rendered.GetValueOrDefault("html"), rendered.GetValueOrDefault("text")), null);
    }

    /// <summary>Templates kept parsed: more than a deployment has; a name that has no folder is never kept.</summary>
    public const int MaxCached = 1_000;

    /// <summary>How many templates are kept parsed now.</summary>
    public int CachedCount => _cache.Count;

    private async Task<Loaded> LoadAsync(string name)
    {
        var now = clock.GetUtcNow();
        if (_cache.TryGetValue(name, out var cached) && now - cached.CheckedAt < RecheckEvery)
            return cached;
        // Callers choose the names: one that is not a template is answered without being remembered.
        if (!Directory.Exists(Path.Combine(_root, name)))
        {
            _cache.TryRemove(name, out _);
            return new Loaded([], [], now, null);
        }
        var stamps = Parts.Select(part => File.Exists(FileOf(name, part)) ? File.GetLastWriteTimeUtc(FileOf(name, part)).Ticks : 0).ToArray();
        if (cached is not null && cached.Stamps.SequenceEqual(stamps))
            return _cache[name] = cached with { CheckedAt = now };
        var templates = new Dictionary<string, Parsed>();
        string? problem = null;
        foreach (var part in Parts)
        {
            var file = FileOf(name, part);
            if (!File.Exists(file))
                continue;
            string source;
            try
            {
                source = await File.ReadAllTextAsync(file);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                problem ??= $"{Templates(name)}/{part}.liquid cannot be read: {ex.Message}";
                continue;
            }
            if (Parser.TryParse(source, out var template, out var error))
                templates[part] = new Parsed(template, source);
            else
                problem ??= $"{Templates(name)}/{part}.liquid does not parse: {error}";
        }
        if (problem is null && templates.Count > 0 && !templates.ContainsKey("subject"))
            problem = $"{Templates(name)} has no subject.liquid";
        if (problem is null && templates.Count > 0 && !templates.ContainsKey("html") && !templates.ContainsKey("text"))
            problem = $"{Templates(name)} has neither html.liquid nor text.liquid";
        var loaded = new Loaded(templates, stamps, now, problem);
        if (!_cache.ContainsKey(name) && _cache.Count >= MaxCached
            && _cache.MinBy(entry => entry.Value.CheckedAt) is { Key: { } oldest })
            _cache.TryRemove(oldest, out _);
        _cache[name] = loaded;
        return loaded;
    }

    /// <summary>A JSON value as the plain CLR value Fluid converts by itself (objects as dictionaries, so a.b works).</summary>
    private static object? ToValue(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString(),
        JsonValueKind.Number => value.GetDecimal(),
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.Array => value.EnumerateArray().Select(ToValue).ToList(),
        JsonValueKind.Object => value.EnumerateObject().ToDictionary(p => p.Name, p => ToValue(p.Value)),
        _ => null,
    };

    private static int LineOf(string source, string variable)
    {
        var lines = source.Split('\n');
        for (var i = 0; i < lines.Length; i++)
            if (Regex.IsMatch(lines[i], $@"(\{{\{{|\{{%)[^}}]*\b{Regex.Escape(variable)}\b"))
                return i + 1;
        return 1;
    }

    private string FileOf(string name, string part) => Path.Combine(_root, name, part + ".liquid");

    private static string Templates(string name) => "templates/" + name;

    public static bool IsName(string? name) => name is not null && TemplateName().IsMatch(name);

    [GeneratedRegex("^[A-Za-z0-9_-]{1,64}$")]
    private static partial Regex TemplateName();

    private sealed record Parsed(IFluidTemplate Template, string Source);

    private sealed record Loaded(Dictionary<string, Parsed> Templates, long[] Stamps, DateTimeOffset CheckedAt, string? Problem);
}

public sealed record TemplateInfo(string Name, IReadOnlyList<string> Parts);

public sealed record RenderedMail(string? Subject, string? Html, string? Text);
