namespace Notifications.Contracts;

/// <summary>
/// An operator did something in the console: signed in or out, replayed, deleted, rebuilt the index, added or removed a
/// suppression, resumed a client. <c>Target</c> says what it was done to (a filter, an address, a client), <c>Count</c>
/// how many it touched and <c>Failed</c> how many it could not.
/// </summary>
public sealed record OperatorActed(string Operator, string Action, string Target, int Count, int Failed, DateTimeOffset At);
