using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Notifications.Api.Sending;

/// <summary>
/// Bind: from an HTTP request to a <see cref="SendEmailRequest"/> and the bytes it came in (an Idempotency-Key is bound to
/// their hash); JSON only, at most <c>Email:MaxRequestBytes</c>; a serializer's error said without .NET type names.
/// </summary>
public static partial class SendEmailBinding
{
    public static async Task<(SendEmailRequest? Mail, byte[] Body, IResult? Problem)> BindAsync(HttpContext http, int maxBytes,
        CancellationToken cancellationToken)
    {
        var request = http.Request;
        if (!request.HasJsonContentType())
            return (null, [], TypedResults.Problem(statusCode: StatusCodes.Status415UnsupportedMediaType,
                title: "Unsupported media type", detail: "Send the job as Content-Type: application/json."));
        if (request.ContentLength > maxBytes)
            return (null, [], TooLarge(maxBytes));
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeLimit)
            sizeLimit.MaxRequestBodySize = maxBytes;
        var (body, tooLarge) = await ReadBodyAsync(request, maxBytes, cancellationToken);
        if (tooLarge)
            return (null, [], TooLarge(maxBytes));
        var (mail, readError) = ReadRequest(body);
        return (mail, body, readError);
    }

    /// <summary>One job's JSON; a batch reads each item with it too.</summary>
    public static (SendEmailRequest? Request, ValidationProblem? Error) ReadRequest(byte[] body)
    {
        try
        {
            var mail = JsonSerializer.Deserialize(body, RequestJsonContext.Default.SendEmailRequest);
            return mail is null
                ? (null, BodyError("body", "the body must be a JSON object"))
                : (mail, null);
        }
        catch (JsonException ex)
        {
            var field = ex.Path is null or "$" ? "body" : ex.Path.TrimStart('$', '.');
            return (null, BodyError(field, DescribeJsonError(ex)));
        }
    }

    public static ValidationProblem BodyError(string field, string message) =>
        TypedResults.ValidationProblem(new Dictionary<string, string[]> { [field] = [message] },
            title: "The body is not a valid email job");

    public static ProblemHttpResult TooLarge(long? limit) =>
        TypedResults.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: "Request too large",
            detail: $"The body is larger than {limit} bytes (Email:MaxRequestBytes).");

    /// <summary>Reads the whole body, at most <paramref name="limit"/> bytes (chunked bodies have no Content-Length to check).</summary>
    private static async Task<(byte[] Body, bool TooLarge)> ReadBodyAsync(HttpRequest request, int limit, CancellationToken cancellationToken)
    {
        if (request.ContentLength is > 0 and var known && known <= limit)
        {
            // The size is known (and checked): read straight into an array of it, not through a growing stream and a copy.
            var body = new byte[known];
            await request.Body.ReadExactlyAsync(body, cancellationToken);
            return (body, false);
        }
        using var buffer = new MemoryStream(request.ContentLength is > 0 and var length ? (int)length : 4096);
        try
        {
            await request.Body.CopyToAsync(buffer, cancellationToken);
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return ([], true);
        }
        return buffer.Length > limit ? ([], true) : (buffer.ToArray(), false);
    }

    /// <summary>The serializer's message without .NET type names, which mean nothing to a client.</summary>
    private static string DescribeJsonError(JsonException ex)
    {
        var unknown = UnknownMember().Match(ex.Message);
        if (unknown.Success)
            return unknown.Groups[1].Value is "id" or "createdAt"
                ? $"'{unknown.Groups[1].Value}' is assigned by the service"
                : $"unknown field '{unknown.Groups[1].Value}'";
        var duplicate = DuplicateMember().Match(ex.Message);
        if (duplicate.Success)
            return $"'{duplicate.Groups[1].Value}' is given more than once";
        var message = ex.Message.Split(" Path:", 2)[0];
        return TypeName().Replace(message, "a value of the right type");
    }

    [GeneratedRegex("The JSON property '([^']*)' could not be mapped")]
    private static partial Regex UnknownMember();

    [GeneratedRegex("[Dd]uplicate.*?property '([^']*)'")]
    private static partial Regex DuplicateMember();

    [GeneratedRegex(@"System\.[A-Za-z0-9_.`\[\]]+|Notifications\.[A-Za-z0-9_.]+")]
    private static partial Regex TypeName();
}
