using System.ComponentModel.DataAnnotations;

namespace Notifications.Api;

/// <summary>The <c>Api</c> section.</summary>
public sealed class ApiOptions
{
    public const string Section = "Api";

    /// <summary>Above this many ready jobs in <c>email.send</c> the API answers 429; 0 turns backpressure off.</summary>
    [Range(0, int.MaxValue, ErrorMessage = "Api:MaxQueueDepth must be 0 (off) or more")]
    public int MaxQueueDepth { get; set; } = 100_000;

    /// <summary>
    /// How old a queue depth may be and still refuse jobs with 429 (depths are read once a second); an older one, from a
    /// broker that stopped answering the samples, refuses nothing.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:02", "01:00:00", ErrorMessage = "Api:MaxDepthAge must be between 2 s and 1 h")]
    public TimeSpan MaxDepthAge { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Jobs one <c>POST /api/send-email/batch</c> may hold.</summary>
    [Range(1, 10_000, ErrorMessage = "Api:MaxBatch must be between 1 and 10000")]
    public int MaxBatch { get; set; } = 500;
}
