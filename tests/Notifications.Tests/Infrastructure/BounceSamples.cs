using System.Text;

namespace Notifications.Tests.Infrastructure;

/// <summary>
/// The DSN and ARF samples in <c>Samples/Bounces</c>, written from RFC 3464/5965 and the formats Postfix, Exim, Exchange,
/// Gmail, Yahoo and AOL produce (no real mail copied), with their placeholders filled: <c>{{JOB_ID}}</c>,
/// <c>{{RETURN_PATH}}</c>, <c>{{BOUNCE_DOMAIN}}</c>.
/// </summary>
public static class BounceSamples
{
    public const string Domain = "bounces.example.com";

    public static byte[] Load(string name, string jobId = "0192f0c5-6d3e-7b7e-9a1c-5e1f2d3c4b5a", string? returnPath = null) =>
        Encoding.UTF8.GetBytes(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Samples", "Bounces", name + ".eml"))
            .Replace("{{JOB_ID}}", jobId)
            .Replace("{{RETURN_PATH}}", returnPath ?? $"b+{jobId}.aaaaaaaaaa@{Domain}")
            .Replace("{{BOUNCE_DOMAIN}}", Domain));
}
