namespace Notifications.Core.Contract;

/// <summary>Header names of the contract; the only place they are spelled.</summary>
public static class JobHeaders
{
    public const string Attempts = "x-attempts";
    public const string LastError = "x-last-error";
    public const string FailureKind = "x-failure-kind";
    public const string FirstFailedAt = "x-first-failed-at";
    public const string LastFailedAt = "x-last-failed-at";
    public const string Replays = "x-replays";
    public const string Client = "x-client";

    /// <summary>On a scheduled job: when it is due (ISO 8601); the worker checks it was not cancelled meanwhile.</summary>
    public const string SendAt = "x-send-at";

    /// <summary>"high" on a high-lane job (absent on a normal one): retries and replays read the lane from it.</summary>
    public const string Priority = "x-priority";
    public const string TraceParent = "traceparent";

    // Set by the broker, read by us.
    public const string Death = "x-death";
    public const string DeliveryCount = "x-delivery-count";
    public const string FirstDeathReason = "x-first-death-reason";
    public const string FirstDeathQueue = "x-first-death-queue";
    public const string FirstDeathExchange = "x-first-death-exchange";
    public const string LastDeathReason = "x-last-death-reason";
    public const string LastDeathQueue = "x-last-death-queue";
    public const string LastDeathExchange = "x-last-death-exchange";

    /// <summary>Headers the broker owns; a copy we publish ourselves must not carry them.</summary>
    public static bool IsBrokerOwned(string name) =>
        name is Death or DeliveryCount
            or FirstDeathReason or FirstDeathQueue or FirstDeathExchange
            or LastDeathReason or LastDeathQueue or LastDeathExchange;
}
