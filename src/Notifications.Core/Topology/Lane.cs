namespace Notifications.Core.Topology;

/// <summary>
/// The two lanes of work (docs/sending-policy.md): a job's <c>"priority"</c>. Each lane has its own work queue
/// and its own retry queues, so a retried job comes back to the lane it left.
/// </summary>
public enum Lane
{
    Normal,
    High,
}

public static class Lanes
{
    public const string HighWire = "high";
    public const string NormalWire = "normal";

    public static readonly IReadOnlyList<Lane> All = [Lane.High, Lane.Normal];

    public static string ToWire(this Lane lane) => lane == Lane.High ? HighWire : NormalWire;

    /// <summary>A job's priority as the request or the <c>x-priority</c> header spells it; absent is normal.</summary>
    public static bool TryParse(string? value, out Lane lane)
    {
        lane = value switch
        {
            null or NormalWire => Lane.Normal,
            HighWire => Lane.High,
            _ => (Lane)(-1),
        };
        return Enum.IsDefined(lane);
    }

    /// <summary>For what was already validated (a header we wrote): anything but "high" is the normal lane.</summary>
    public static Lane FromWire(string? value) => value == HighWire ? Lane.High : Lane.Normal;
}
