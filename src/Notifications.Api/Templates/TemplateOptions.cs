namespace Notifications.Api.Templates;

/// <summary>The <c>Templates</c> section.</summary>
public sealed class TemplatesOptions
{
    public const string Section = "Templates";

    /// <summary>The folder of templates, <c>&lt;name&gt;/subject.liquid</c>, <c>html.liquid</c>, <c>text.liquid</c>; relative to the program's folder.</summary>
    public string Path { get; set; } = "templates";
}
