using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Notifications.Api.Clients;

namespace Notifications.Api.Templates;

/// <summary><c>GET /api/templates</c> and <c>POST /api/templates/{name}/preview</c>: what can be sent, and how it looks, without sending.</summary>
public static class TemplateEndpoints
{
    public static IEndpointRouteBuilder MapTemplates(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/templates").RequireAuthorization(ClientAuthentication.Policy)
            .ProducesProblem(StatusCodes.Status401Unauthorized);
        group.MapGet("/", (TemplateStore templates) => TypedResults.Ok(templates.List()))
            .WithName("ListTemplates").WithSummary("The templates of Templates:Path and the parts each has (subject, html, text)");
        group.MapPost("/{name}/preview", PreviewAsync)
            .WithName("PreviewTemplate").WithSummary("Render a template with a model (the body, a JSON object) without sending anything");
        return routes;
    }

    private static async Task<Results<Ok<RenderedMail>, ValidationProblem, ProblemHttpResult>> PreviewAsync(string name, HttpContext http,
        TemplateStore templates, CancellationToken cancellationToken)
    {
        if (!http.Request.HasJsonContentType())
            return TypedResults.Problem(statusCode: StatusCodes.Status415UnsupportedMediaType, title: "Unsupported media type",
                detail: "Send the model as Content-Type: application/json.");
        JsonElement model;
        try
        {
            using var document = await JsonDocument.ParseAsync(http.Request.Body, new JsonDocumentOptions { AllowDuplicateProperties = false },
                cancellationToken);
            model = document.RootElement.Clone();
        }
        catch (JsonException ex)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["model"] = [$"not valid JSON: {ex.Message}"] },
                title: "The model is not valid");
        }
        var (mail, problem) = await templates.RenderAsync(name, model);
        return problem is null
            ? TypedResults.Ok(mail!)
            : TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["template"] = [problem] }, title: "The template does not render");
    }
}
