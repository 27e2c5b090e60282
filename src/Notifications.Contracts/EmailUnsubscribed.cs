namespace Notifications.Contracts;

/// <summary>Someone left one of a client's lists by its one-click unsubscribe link: later mail of that list to them is held back.</summary>
/// <param name="Address">the address that left (it received the list mail).</param>
/// <param name="List">the client's list.</param>
/// <param name="Test">true for a test client's job (nothing was mailed); absent (null) for live mail.</param>
public sealed record EmailUnsubscribed(string Address, string List, DateTimeOffset UnsubscribedAt, string? Client = null, bool? Test = null);
