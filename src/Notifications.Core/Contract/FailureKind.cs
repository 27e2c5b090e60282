namespace Notifications.Core.Contract;

public enum FailureKind
{
    /// <summary>SMTP 4xx, connection refused or reset, timeout: worth another try later.</summary>
    Transient,

    /// <summary>SMTP 5xx: the relay will never take this mail.</summary>
    Permanent,

    /// <summary>The message is not a readable job.</summary>
    Poison,

    /// <summary>The broker gave up after the worker died holding it too often.</summary>
    DeliveryLimit,
}

public static class FailureKindNames
{
    public static string ToWire(this FailureKind kind) => kind switch
    {
        FailureKind.Transient => "transient",
        FailureKind.Permanent => "permanent",
        FailureKind.Poison => "poison",
        FailureKind.DeliveryLimit => "delivery-limit",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown failure kind"),
    };

    public static bool TryParse(string? wire, out FailureKind kind)
    {
        switch (wire)
        {
            case "transient": kind = FailureKind.Transient; return true;
            case "permanent": kind = FailureKind.Permanent; return true;
            case "poison": kind = FailureKind.Poison; return true;
            case "delivery-limit": kind = FailureKind.DeliveryLimit; return true;
            default: kind = default; return false;
        }
    }
}
