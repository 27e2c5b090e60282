using System.Security.Cryptography;
using System.Text;
using MassTransit;
using MimeKit;

namespace Notifications.Bench.Peer;

/// <summary>A minimal endpoint that checks a bearer key, binds and validates the job, and publishes it (confirmed, persistent).</summary>
public static class PeerApi
{
    public static async Task RunAsync(PeerSettings settings, string url)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls(url);
        builder.Services.AddMassTransit(bus => bus.UsingRabbitMq((context, rabbit) => settings.ConfigureHost(rabbit)));
        var app = builder.Build();
        var keyHash = Convert.FromHexString(settings.KeyHash);

        app.MapGet("/health/ready", () => TypedResults.Ok());
        app.MapPost("/api/send-email", async (HttpRequest http, PeerJob job, IPublishEndpoint publish, CancellationToken cancellationToken) =>
        {
            var header = http.Headers.Authorization.ToString();
            if (!header.StartsWith("Bearer ", StringComparison.Ordinal)
                || !CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(header[7..])), keyHash))
                return Results.Unauthorized();
            var errors = Validate(job);
            if (errors.Count > 0)
                return TypedResults.ValidationProblem(errors);
            var id = Guid.NewGuid().ToString("N");
            await publish.Publish(job with { Id = id }, cancellationToken);
            return TypedResults.Accepted($"/api/send-email/{id}", new { id });
        });
        await app.RunAsync();
    }

    private static Dictionary<string, string[]> Validate(PeerJob job)
    {
        var errors = new Dictionary<string, string[]>();
        if (job.To is not { Length: > 0 } || job.To.Any(to => !MailboxAddress.TryParse(to, out _)))
            errors["to"] = ["one address or more, each valid"];
        if (string.IsNullOrWhiteSpace(job.Subject) || job.Subject.Length > 998)
            errors["subject"] = ["required, at most 998 characters"];
        if (string.IsNullOrEmpty(job.Text) && string.IsNullOrEmpty(job.Html))
            errors["text"] = ["text or html required"];
        return errors;
    }
}
